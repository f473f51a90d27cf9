// Express 4 installed under an alias (devDependency "express4": "npm:express@^4"), for tests that
// run the same suite on both majors. Its runtime API is what these tests use of Express 5's types.
declare module 'express4' {
  import express from 'express'
  export default express
}
