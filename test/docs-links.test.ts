import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/** The README and docs/ link to each other by file and heading; a moved heading breaks no link. */
const pages = ['README.md', ...readdirSync('docs').map((name) => join('docs', name))]

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-')

function anchorsOf(path: string): Set<string> {
  const anchors = new Set<string>()
  let fenced = false
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced
    else if (!fenced && /^#{1,6} /.test(line)) anchors.add(anchorOf(line.replace(/^#+/, '')))
  }
  return anchors
}

describe('the documentation', () => {
  it('has no link to a missing file or heading', () => {
    const broken: string[] = []
    for (const page of pages) {
      const text = readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, '')
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^[a-z]+:/.test(target)) continue
        const [file, anchor] = target.split('#') as [string, string | undefined]
        const path = file === '' ? page : resolve(dirname(page), file)
        if (!existsSync(path)) broken.push(`${page}: ${target} (no such file)`)
        else if (anchor && path.endsWith('.md') && !anchorsOf(path).has(anchor)) {
          broken.push(`${page}: ${target} (no such heading)`)
        }
      }
    }
    expect(broken).toEqual([])
  })

  it('keeps the README short, with the two commands first', () => {
    const readme = readFileSync('README.md', 'utf8')
    expect(readme.split('\n').length).toBeLessThanOrEqual(220)
    expect(readme).toMatch(
      /^# domain-gateway\n\n```sh\nnpm install && npm start .*\nnpm install && npm test /,
    )
  })
})
