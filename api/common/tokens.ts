/** Injection tokens for the ports the API is wired with. */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const REPOSITORIES = Symbol('REPOSITORIES');
export const TEMPORAL = Symbol('TEMPORAL');
