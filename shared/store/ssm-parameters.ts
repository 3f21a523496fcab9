import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm'
import type { ParameterReader } from '../secret-parameters.ts'

/** Reads SecureString parameters from SSM Parameter Store, decrypted, ten names per call. */
export function ssmParameterReader(region: string | undefined, endpoint?: string): ParameterReader {
  return async (names) => {
    const client = new SSMClient({ region, ...(endpoint ? { endpoint } : {}) })
    try {
      const values: Record<string, string> = {}
      for (let start = 0; start < names.length; start += 10) {
        const result = await client.send(
          new GetParametersCommand({ Names: names.slice(start, start + 10), WithDecryption: true }),
        )
        for (const parameter of result.Parameters ?? []) {
          if (parameter.Name && parameter.Value !== undefined)
            values[parameter.Name] = parameter.Value
        }
      }
      return values
    } finally {
      client.destroy()
    }
  }
}
