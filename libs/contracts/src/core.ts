/**
 * The contracts' machinery without the contracts themselves: errors, the envelope, validation. With
 * `@switchboard/contracts/erp` it is all a 1C parse worker thread loads (file-parse.ts): the whole index brings
 * the website and telephony contracts too.
 */
export * from './errors';
export * from './envelope';
export * from './validation';
