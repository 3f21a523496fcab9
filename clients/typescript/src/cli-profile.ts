import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'

/** One named set of what the CLI connects with. */
export interface Profile {
  readonly url: string
  readonly key?: string | undefined
  readonly adminKey?: string | undefined
}

interface ConfigFile {
  readonly profiles: Record<string, Profile>
}

export const DEFAULT_URL = 'http://127.0.0.1:8080'

/** `$DOMAIN_GATEWAY_CONFIG`, else `$XDG_CONFIG_HOME/domain-gateway/config.json` (~/.config). */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOMAIN_GATEWAY_CONFIG) return env.DOMAIN_GATEWAY_CONFIG
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config')
  return join(base, 'domain-gateway', 'config.json')
}

async function readConfig(path: string): Promise<ConfigFile> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<ConfigFile>
    return { profiles: parsed.profiles ?? {} }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} }
    throw new Error(`${path} is not a domain-gateway config file: ${(error as Error).message}`)
  }
}

/** The named profile, if the config file has it. */
export async function readProfile(name: string, path = configPath()): Promise<Profile | undefined> {
  return (await readConfig(path)).profiles[name]
}

/** Writes (or replaces) one profile; the file holds keys, so only its owner may read it. */
export async function saveProfile(name: string, profile: Profile, path = configPath()) {
  const config = await readConfig(path)
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const next = { profiles: { ...config.profiles, [name]: profile } }
  await writeFile(path, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 })
  await chmod(path, 0o600)
}
