/** An error the emulated service answers with, as the real one would. */
export class EmulatorError extends Error {
  override name = 'EmulatorError'
  constructor(
    readonly code: string,
    readonly httpStatus: number,
    message: string,
  ) {
    super(message)
  }
}

/** The real service's error codes and messages, as far as they are documented or observed. */
export const EmulatorErrors = {
  /** As the service's gateway answers today: `MissingDomainName`, "DomainName is mandatory…". */
  missingParameter: (name: string) => {
    const base = name.replace(/\.\d+$/, '')
    return new EmulatorError(`Missing${base}`, 400, `${base} is mandatory for this action.`)
  },
  /** A required V3 header (x-acs-*) is absent. */
  missingHeader: (name: string) =>
    new EmulatorError(
      'MissingParameter',
      400,
      `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
    ),
  invalidParameter: (name: string, detail?: string) =>
    new EmulatorError(
      'InvalidParameter',
      400,
      `The specified parameter "${name}" is not valid.${detail ? ` ${detail}` : ''}`,
    ),
  /** The service says no more than this (the detail stays in the emulator's own log). */
  parameterIllegal: (_detail: string) =>
    new EmulatorError('ParameterIllegal', 400, 'Parameter illegal.'),
  incompleteSignature: (detail: string) =>
    new EmulatorError(
      'IncompleteSignature',
      400,
      `The request signature does not conform to Aliyun standards. ${detail}`,
    ),
  signatureDoesNotMatch: (stringToSign: string) =>
    new EmulatorError(
      'SignatureDoesNotMatch',
      400,
      `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`,
    ),
  /** The V3 wording: "… server StringToSign is [ACS3-HMAC-SHA256\n…]". */
  signatureDoesNotMatchV3: (stringToSign: string) =>
    new EmulatorError(
      'SignatureDoesNotMatch',
      400,
      `Specified signature does not match our calculation. server StringToSign is [${stringToSign}]`,
    ),
  networkIoError: () =>
    new EmulatorError(
      'NetworkIOError',
      400,
      'An I/O error occurred while the request was processed; please try again later.',
    ),
  accessKeyNotFound: () =>
    new EmulatorError('InvalidAccessKeyId.NotFound', 404, 'Specified access key is not found.'),
  securityTokenInvalid: () =>
    new EmulatorError(
      'InvalidSecurityToken.Mismatch',
      400,
      'Specified SecurityToken is not valid.',
    ),
  nonceUsed: () =>
    new EmulatorError('SignatureNonceUsed', 400, 'Specified signature nonce was used already.'),
  timestampFormat: () =>
    new EmulatorError(
      'InvalidTimeStamp.Format',
      400,
      'Specified time stamp or date value is not well formatted.',
    ),
  timestampExpired: () =>
    new EmulatorError(
      'InvalidTimeStamp.Expired',
      400,
      'Specified time stamp or date value is expired.',
    ),
  versionInvalid: () =>
    new EmulatorError('InvalidVersion', 400, 'Specified parameter Version is not valid.'),
  actionNotFound: () =>
    new EmulatorError(
      'InvalidAction.NotFound',
      404,
      'Specified api is not found, please check your url and method.',
    ),
  unsupportedMethod: () =>
    new EmulatorError('UnsupportedHTTPMethod', 400, 'This http method is not supported.'),
  throttling: () =>
    new EmulatorError('Throttling.User', 400, 'Request was denied due to user flow control.'),
  internalError: () =>
    new EmulatorError(
      'InternalError',
      500,
      'The request processing has failed due to some unknown error, exception or failure.',
    ),
  serviceUnavailable: () =>
    new EmulatorError(
      'ServiceUnavailable',
      503,
      'The request has failed due to a temporary failure of the server.',
    ),
  domainNotExist: (_domain: string) =>
    new EmulatorError('DomainNotExist', 400, 'The domain name does not exist.'),
  taskBeingProcessed: () =>
    new EmulatorError(
      'TaskIsBeingProcessed',
      400,
      'An operation is being processed. Please try again later.',
    ),
} as const
