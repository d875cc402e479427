/** A media type without parameters, compared case-sensitively. */
export type MediaType = string & { readonly __brand: 'MediaType' };

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json' as MediaType;
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json' as MediaType;
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json' as MediaType;
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json' as MediaType;

export function isMediaType(value: string): value is MediaType {
  return MEDIA_TYPE.test(value);
}

/** The media type of a `Content-Type` header value, parameters stripped; undefined when malformed. */
export function mediaTypeOfContentType(header: string): MediaType | undefined {
  const semicolon = header.indexOf(';');
  const bare = (semicolon === -1 ? header : header.slice(0, semicolon)).trim();
  return isMediaType(bare) ? bare : undefined;
}
