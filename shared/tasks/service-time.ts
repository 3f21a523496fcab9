const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
}
const CHINA_OFFSET_MS = 8 * 3_600_000

/**
 * The instant a service time string means. The Domain API writes times without a zone —
 * `Dec 26,2017 11:00:54` (QueryTaskList) or `2018-01-25 20:46:57` (QueryTaskDetailList) — in
 * China Standard Time (UTC+8): its docs pair such strings with epoch values exactly 8 h apart
 * (`2017-11-01 17:22:51` ↔ `1509528171000`). One instant, or none when the text cannot be read.
 */
export function serviceTimeCandidates(text: string | undefined): number[] {
  if (!text) return []
  let parts: number[] | undefined
  const named = /^([A-Z][a-z]{2}) (\d{1,2}),\s?(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(text.trim())
  if (named && MONTHS[named[1] as string] !== undefined) {
    parts = [
      Number(named[3]),
      MONTHS[named[1] as string] as number,
      Number(named[2]),
      Number(named[4]),
      Number(named[5]),
      Number(named[6]),
    ]
  }
  const numeric = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(text.trim())
  if (numeric) {
    parts = [
      Number(numeric[1]),
      Number(numeric[2]) - 1,
      Number(numeric[3]),
      Number(numeric[4]),
      Number(numeric[5]),
      Number(numeric[6]),
    ]
  }
  if (!parts) return []
  const asUtc = Date.UTC(
    parts[0] as number,
    parts[1] as number,
    parts[2] as number,
    parts[3] as number,
    parts[4] as number,
    parts[5] as number,
  )
  return [asUtc - CHINA_OFFSET_MS]
}
