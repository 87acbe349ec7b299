import { describe, expect, it } from 'vitest';
import { MAX_SHARED_FILE_BYTES, type ShareTarget, shareVideo } from './share-video.ts';

const target: ShareTarget = {
  url: 'https://vidgenie.example/api/contents/c_1/media/video',
  title: 'My video',
  fileSizeBytes: 2_000,
  fileName: 'vidgenie-c_1.mp4',
  mimeType: 'video/mp4',
};

const recorder = () => {
  const shared: ShareData[] = [];
  const copied: string[] = [];
  return {
    shared,
    copied,
    share: async (data: ShareData) => {
      shared.push(data);
    },
    writeText: async (text: string) => {
      copied.push(text);
    },
  };
};

describe('shareVideo', () => {
  it('shares the file when the browser can share files', async () => {
    const env = recorder();
    const outcome = await shareVideo(target, {
      ...env,
      canShare: (data) => (data.files?.length ?? 0) > 0,
      fetchFile: async () => new Blob(['mp4'], { type: 'video/mp4' }),
    });
    expect(outcome).toBe('shared');
    expect(env.shared).toHaveLength(1);
    const file = env.shared[0]?.files?.[0];
    expect(file?.name).toBe('vidgenie-c_1.mp4');
    expect(file?.type).toBe('video/mp4');
    expect(env.copied).toEqual([]);
  });

  it('shares the link when files cannot be shared, or the video is too large to download first', async () => {
    const env = recorder();
    expect(
      await shareVideo(target, { ...env, canShare: () => false, fetchFile: async () => new Blob(['x']) }),
    ).toBe('shared');
    let fetched = 0;
    expect(
      await shareVideo(
        { ...target, fileSizeBytes: MAX_SHARED_FILE_BYTES + 1 },
        {
          ...env,
          canShare: () => true,
          fetchFile: async () => {
            fetched++;
            return new Blob(['x']);
          },
        },
      ),
    ).toBe('shared');
    expect(fetched).toBe(0);
    expect(env.shared).toEqual([
      { title: 'My video', url: target.url },
      { title: 'My video', url: target.url },
    ]);
  });

  it('shares the link when downloading the file fails', async () => {
    const env = recorder();
    const outcome = await shareVideo(target, {
      ...env,
      canShare: () => true,
      fetchFile: async () => {
        throw new Error('HTTP 500');
      },
    });
    expect(outcome).toBe('shared');
    expect(env.shared).toEqual([{ title: 'My video', url: target.url }]);
  });

  it('copies the link without the Web Share API', async () => {
    const env = recorder();
    expect(await shareVideo(target, { writeText: env.writeText })).toBe('copied');
    expect(env.copied).toEqual([target.url]);
  });

  it('says cancelled when the user closes the share sheet, and copies when the browser refuses', async () => {
    const env = recorder();
    const abort = Object.assign(new Error('closed'), { name: 'AbortError' });
    const refuse = Object.assign(new Error('no activation'), { name: 'NotAllowedError' });
    expect(
      await shareVideo(target, {
        writeText: env.writeText,
        share: async () => {
          throw abort;
        },
      }),
    ).toBe('cancelled');
    expect(env.copied).toEqual([]);
    expect(
      await shareVideo(target, {
        writeText: env.writeText,
        share: async () => {
          throw refuse;
        },
      }),
    ).toBe('copied');
    expect(env.copied).toEqual([target.url]);
  });

  it('fails when neither sharing nor copying is possible', async () => {
    expect(await shareVideo(target, {})).toBe('failed');
    expect(
      await shareVideo(target, {
        writeText: async () => {
          throw new Error('denied');
        },
      }),
    ).toBe('failed');
  });
});
