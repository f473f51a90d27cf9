import { expectProblem as expectProblemOf } from '../../../test/adapters/http'

export { secretsOf, silent, subscribe, world, type Call } from '../../../test/helpers/world'
export { restoreEnvAfterEach, sleep } from '../../../test/adapters/http'

/** A problem+json denial: exactly {type,title,status,detail,code,planId}, nothing secret anywhere. */
export async function expectProblem(res: Response, status: number, code: string, planId: string, secrets: string[] = []) {
  return expectProblemOf({ status: res.status, headers: res.headers, text: await res.text() }, status, code, planId, secrets)
}
