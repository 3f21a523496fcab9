/** A value an RPC parameter may hold before flattening. Lists become `Name.1`, `Name.2`, ... */
export type RpcParamValue = string | number | boolean | readonly RpcParamValue[] | RpcParamObject
export interface RpcParamObject {
  readonly [key: string]: RpcParamValue | undefined
}
export type RpcParams = Readonly<Record<string, RpcParamValue | undefined>>
/** Flattened parameters: every value a string, ready to sign and send. */
export type FlatParams = Record<string, string>

/**
 * Flattens nested lists and objects with 1-based indexes, as the RPC protocol expects:
 * `{ DomainName: ['a.com', 'b.com'] }` becomes `{ 'DomainName.1': 'a.com', 'DomainName.2': 'b.com' }`.
 * `undefined` values are dropped; booleans and numbers become their string forms.
 */
export function flattenParams(params: RpcParams): FlatParams {
  const flat: FlatParams = {}
  for (const [name, value] of Object.entries(params)) flattenInto(flat, name, value)
  return flat
}

function flattenInto(flat: FlatParams, name: string, value: RpcParamValue | undefined): void {
  if (value === undefined) return
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      flattenInto(flat, `${name}.${index + 1}`, item)
    })
    return
  }
  if (typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as RpcParamObject)) {
      flattenInto(flat, `${name}.${key}`, inner)
    }
    return
  }
  flat[name] = String(value)
}
