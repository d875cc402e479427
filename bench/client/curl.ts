import { execFile } from 'node:child_process';

export const CURL_BIN = '/usr/bin/curl';

export interface CurlTransfer {
  status: number;
  bytes: number;
  /** curl's own clock for the transfer, from the start of its connection to the last byte. */
  seconds: number;
}

/**
 * Downloads every URL at once with one curl process (`--parallel`, a connection each), bodies written to
 * /dev/null: a native client whose receive loop costs far less than Node's, so the server's send path is what is
 * measured. Times come from curl itself, so starting the process is not counted.
 */
export function curlDownload(urls: readonly string[]): Promise<CurlTransfer[]> {
  const args = ['--silent', '--show-error', '--no-progress-meter', '--parallel', '--parallel-immediate', '--parallel-max', String(urls.length)];
  args.push('--write-out', '%{http_code} %{size_download} %{time_total}\\n');
  for (const url of urls) args.push('--output', '/dev/null', url);
  return new Promise((resolve, reject) => {
    execFile(CURL_BIN, args, { encoding: 'utf8', timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`curl ${urls.join(' ')}: ${error.message} ${stderr}`));
        return;
      }
      const transfers = [...stdout.matchAll(/^(\d{3}) (\d+) ([\d.]+)$/gm)].map(([, status, bytes, seconds]) => ({
        status: Number(status),
        bytes: Number(bytes),
        seconds: Number(seconds),
      }));
      if (transfers.length !== urls.length) reject(new Error(`curl reported ${transfers.length} transfers for ${urls.length} URLs: ${stdout}`));
      else resolve(transfers);
    });
  });
}
