/**
 * The zones the pre-flight safety tests serve (`npm run fixtures:dnssec` records them too): a
 * signed zone — a KSK, a ZSK and a second KSK that is never published (a stray DS, or a DS
 * pre-published for a key to come) — served signed by one provider and unsigned by another; and
 * a zone served unsigned.
 */
export const SAFETY_ZONE = 'safety-example.com'
/** A zone its only provider serves unsigned. */
export const UNSIGNED_ZONE = 'safety-unsigned.com'

/** Key indexes: the published KSK, the ZSK, the KSK never published. */
export const SAFETY_KEYS = { ksk: 0, zsk: 1, unpublished: 2 } as const

export const SAFETY_SCENARIOS = {
  [SAFETY_ZONE]: {
    keys: [true, false, true],
    states: [
      [[0, 1], [0]],
      [[], []],
    ],
  },
  [UNSIGNED_ZONE]: { keys: [], states: [[[], []]] },
} as const
