export { secretsOf, silent, subscribe, world, type Call } from '../../../test/helpers/world'
export { eventually, sleep } from '../../../test/adapters/http'
export { serveLedger } from '../../../test/helpers/serve'
