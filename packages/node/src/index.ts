export { createNodeFetch, type NodeFetchOptions } from './node-fetch'
export { NodeFetchResponse } from './response'
