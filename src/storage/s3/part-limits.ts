// S3's multipart part limits: what the configuration checks part sizes against, and what the upload and copy
// code cuts parts by.
const MiB = 1024 * 1024;

/** S3's smallest non-final multipart part. */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
