import { hasNeverminedSdk, sdkMissingLine } from '../bench/lib/peers/nvm-sdk-bundle'

/** Runs once per test run: says, in one line, what the absence of Nevermined's SDK bundle means. */
export default function setup(): void {
  if (!hasNeverminedSdk()) console.warn(sdkMissingLine())
}
