export { forwardedAccept } from './accept.ts';
export { mapNamespace, type RemoteRole } from './namespace.ts';
export { RemoteError } from './remote-error.ts';
export { openRemote, RemoteRegistry, type ReferrerDescriptor, type RemoteDeps, type RemoteRequest, type RemoteResponse } from './remote-registry.ts';
