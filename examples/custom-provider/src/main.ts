/**
 * The custom-provider demo: starts the Acme Images fake, runs the short-video template with
 * `imageProvider: 'acme-image'` (local providers for the rest) and prints where the MP4 is.
 */
import { resolve } from 'node:path';
import { ACME_FAKE_KEY, startAcmeFake } from './acme-image/index.ts';
import { makeAcmeVideo } from './make-acme-video.ts';

const fake = await startAcmeFake();
try {
  const { outcome, videoPath } = await makeAcmeVideo({
    prompt: 'a lighthouse on a cliff at sunset',
    baseURL: fake.url,
    acmeKey: ACME_FAKE_KEY,
    root: resolve('out', 'media'),
  });
  if (outcome.status !== 'completed' || videoPath === undefined) {
    console.error(
      `The run ${outcome.status}${outcome.status === 'failed' ? `: ${outcome.error.message}` : ''}`,
    );
    process.exitCode = 1;
  } else {
    console.log(`Acme Images rendered ${fake.counts.get('render') ?? 0} image(s) for an 8 s video.`);
    console.log(`MP4: ${videoPath}`);
  }
} finally {
  await fake.close();
}
