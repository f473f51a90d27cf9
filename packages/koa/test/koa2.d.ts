// Koa 2 installed under an alias (devDependency "koa2": "npm:koa@^2"), for tests that run the same
// suite on both majors. Its API is what these tests use of Koa 3's types.
declare module 'koa2' {
  import Koa from 'koa'
  export default Koa
}
