import type { WindowResult } from '../window'
import type { ChartSpec } from './style'

export function windowChart(_results: WindowResult[], _note: string): ChartSpec {
  return { mark: 'point', data: { values: [] } } as ChartSpec
}
