/**
 * Guard against two vendor instruments mapping to one key (docs/INSTRUMENT_KEY.md: "fail loudly with
 * both names, never overwrite one with the other").
 */
import { TicklakeError } from '../errors.js';

/** One vendor instrument and the key it maps to. */
export interface VendorKeyPair {
  key: string;
  vendorExchange: string;
  vendorSymbol: string;
}

/** Two different vendor instruments map to one key. `details` names the key and both instruments. */
export class DuplicateInstrumentKeyError extends TicklakeError {
  readonly key: string;
  readonly first: VendorKeyPair;
  readonly second: VendorKeyPair;

  constructor(first: VendorKeyPair, second: VendorKeyPair, moreClashes: number) {
    super(
      'DUPLICATE_INSTRUMENT_KEY',
      `two vendor instruments map to instrument key "${first.key}": ${first.vendorExchange} "${first.vendorSymbol}" and ` +
        `${second.vendorExchange} "${second.vendorSymbol}"` +
        (moreClashes > 0 ? ` (and ${moreClashes} more clashing key(s))` : ''),
      {
        hint: 'the key contract cannot tell them apart: write neither, and report it (docs/INSTRUMENT_KEY.md) or ingest only one of them',
        details: { key: first.key, first, second, moreClashes },
      },
    );
    this.key = first.key;
    this.first = first;
    this.second = second;
  }
}

/**
 * Throws `DuplicateInstrumentKeyError` naming both vendor instruments when two different
 * (vendorExchange, vendorSymbol) pairs share a key. The same instrument listed twice is fine.
 */
export function assertUniqueKeys(pairs: Iterable<VendorKeyPair>): void {
  const seen = new Map<string, VendorKeyPair>();
  let clash: [VendorKeyPair, VendorKeyPair] | undefined;
  const clashingKeys = new Set<string>();
  for (const pair of pairs) {
    const prev = seen.get(pair.key);
    if (prev === undefined) {
      seen.set(pair.key, pair);
    } else if (prev.vendorExchange !== pair.vendorExchange || prev.vendorSymbol !== pair.vendorSymbol) {
      clash ??= [prev, pair];
      clashingKeys.add(pair.key);
    }
  }
  if (clash) throw new DuplicateInstrumentKeyError(clash[0], clash[1], clashingKeys.size - 1);
}
