import { useEffect, useRef, useState } from 'react';
import type { Content, MediaLink } from '../api/api-types.ts';
import { useT } from '../atoms/language.ts';
import { mediaFactsOf } from './media-facts.ts';
import { browserShareEnvironment, type ShareOutcome, shareVideo } from './share-video.ts';

/** Safari on iPhone has no `requestFullscreen` on elements, only this on videos. */
interface WebkitVideo extends HTMLVideoElement {
  webkitEnterFullscreen?: () => void;
}

const canGoFullscreen = (): boolean =>
  typeof document !== 'undefined' &&
  (document.fullscreenEnabled === true ||
    (typeof HTMLVideoElement !== 'undefined' && 'webkitEnterFullscreen' in HTMLVideoElement.prototype));

const FEEDBACK: Readonly<
  Record<Exclude<ShareOutcome, 'cancelled'>, 'node.shared' | 'node.linkCopied' | 'node.shareFailed'>
> = {
  shared: 'node.shared',
  copied: 'node.linkCopied',
  failed: 'node.shareFailed',
};

/**
 * The output node's player: the video in place, its duration, resolution and size, and Download,
 * Full screen and Share. The player's box has a fixed height, so nothing moves when the video
 * arrives (see `.step-node__player`).
 */
export function OutputPlayer(props: { readonly content: Content; readonly video: MediaLink }) {
  const { content, video } = props;
  const t = useT();
  const element = useRef<WebkitVideo>(null);
  const [feedback, setFeedback] = useState<Exclude<ShareOutcome, 'cancelled'> | null>(null);
  const [sharing, setSharing] = useState(false);

  useEffect(() => {
    if (feedback === null) return;
    const timer = setTimeout(() => setFeedback(null), 4000);
    return () => clearTimeout(timer);
  }, [feedback]);

  const fullscreen = () => {
    const player = element.current;
    if (player === null) return;
    if (typeof player.requestFullscreen === 'function')
      void player.requestFullscreen().catch(() => undefined);
    else player.webkitEnterFullscreen?.();
  };

  const share = async () => {
    setSharing(true);
    // The media route's URL, not a library page: it is the owner's (checked on every request, so
    // the link shows nothing to anyone else), it plays the video directly on any device where the
    // owner is signed in, and it lasts as long as the content (the library has no page per video,
    // and a presigned storage URL would expire in minutes).
    const outcome = await shareVideo(
      {
        url: new URL(video.url, window.location.origin).href,
        title: t('node.shareTitle'),
        fileSizeBytes: content.fileSizeBytes,
        fileName: `vidgenie-${content.id}.mp4`,
        mimeType: 'video/mp4',
      },
      browserShareEnvironment(),
    );
    setSharing(false);
    setFeedback(outcome === 'cancelled' ? null : outcome);
  };

  const facts = mediaFactsOf(content);
  return (
    <div className="step-node__player nodrag">
      <div className="step-node__screen">
        {/* biome-ignore lint/a11y/useMediaCaption: the generated clips carry no dialogue; captions come with hosted audio */}
        <video
          ref={element}
          controls
          playsInline
          preload="metadata"
          src={video.url}
          poster={content.media.thumbnail?.url}
          aria-label={t('node.generatedVideo')}
        />
      </div>
      {/* Units make each fact plain (8.0 s · 720×1280 · 2.4 MB); the title names it on hover. */}
      <p className="step-node__meta">
        {facts.map((fact, index) => (
          <span key={fact.key}>
            {index > 0 && ' · '}
            <span title={t(fact.key)}>{fact.value}</span>
          </span>
        ))}
      </p>
      <div className="step-node__actions">
        <a className="button button--small" href={video.downloadUrl} download>
          {t('node.download')}
        </a>
        <button
          type="button"
          className="button button--small"
          onClick={fullscreen}
          disabled={!canGoFullscreen()}
        >
          {t('node.fullscreen')}
        </button>
        <button
          type="button"
          className="button button--small"
          onClick={() => void share()}
          disabled={sharing}
          aria-busy={sharing}
        >
          {t('node.share')}
        </button>
      </div>
      <p className="step-node__feedback" role="status">
        {feedback === null ? '' : t(FEEDBACK[feedback])}
      </p>
    </div>
  );
}
