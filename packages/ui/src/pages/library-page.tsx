import { useAtom, useAtomValue, useSetAtom } from 'jotai';
import { useCallback, useEffect, useState } from 'react';
import { messageOf, request } from '../api/api-client.ts';
import type { Content, Template } from '../api/api-types.ts';
import { graphAtom, selectedNodeIdAtom } from '../atoms/graph.ts';
import { languageAtom, useT } from '../atoms/language.ts';
import { libraryAtom, removeContentAtom, templatesAtom } from '../atoms/library.ts';
import { navigateAtom } from '../atoms/route.ts';
import { contentAtom, runAtom } from '../atoms/run.ts';
import { formatDate } from '../dashboard/format.ts';
import { graphOfTemplate } from '../library/graph-of-template.ts';
import { IDLE_RUN } from '../run/run-state.ts';

const PAGE_SIZE = 12;

/** /library: every generated video (play, download, delete, cursor pages) and the saved templates. */
export function LibraryPage() {
  const t = useT();
  const [library, setLibrary] = useAtom(libraryAtom);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const loadPage = useCallback(
    async (cursor: string | null) => {
      setLoading(true);
      try {
        const page = await request('get', '/api/contents', {
          query: { limit: PAGE_SIZE, ...(cursor === null ? {} : { cursor }) },
        });
        setLibrary((current) => ({
          contents:
            cursor === null || current === null ? page.contents : [...current.contents, ...page.contents],
          nextCursor: page.nextCursor,
        }));
      } catch (caught) {
        setError(messageOf(caught));
      } finally {
        setLoading(false);
      }
    },
    [setLibrary],
  );

  useEffect(() => {
    void loadPage(null);
  }, [loadPage]);

  return (
    <div className="page library">
      <h1>{t('lib.title')}</h1>
      {error && (
        <p role="alert" className="alert alert--error">
          {error}
        </p>
      )}
      <section aria-labelledby="videos-title">
        <h2 id="videos-title">{t('lib.videos')}</h2>
        {library === null ? (
          <p>{t('app.loading')}</p>
        ) : library.contents.length === 0 ? (
          <p>{t('lib.empty')}</p>
        ) : (
          <ul className="library__grid">
            {library.contents.map((content) => (
              <ContentCard key={content.id} content={content} onError={setError} />
            ))}
          </ul>
        )}
        {library?.nextCursor && (
          <button
            type="button"
            className="button"
            disabled={loading}
            onClick={() => void loadPage(library.nextCursor)}
          >
            {t('lib.loadMore')}
          </button>
        )}
      </section>
      <Templates onError={setError} />
    </div>
  );
}

function ContentCard(props: { readonly content: Content; readonly onError: (message: string) => void }) {
  const { content } = props;
  const t = useT();
  const language = useAtomValue(languageAtom);
  const remove = useSetAtom(removeContentAtom);
  const [playing, setPlaying] = useState(false);
  const [busy, setBusy] = useState(false);
  const thumbnail = content.media.thumbnail?.url ?? content.media.image?.url;
  const video = content.media.video;

  const onDelete = async () => {
    if (!window.confirm(t('lib.confirmDelete'))) return;
    setBusy(true);
    try {
      await request('delete', '/api/contents/{contentId}', { params: { contentId: content.id } });
      remove(content.id);
    } catch (caught) {
      props.onError(messageOf(caught));
      setBusy(false);
    }
  };

  return (
    <li className="card content-card" data-testid="library-item" data-content-id={content.id}>
      <div className="content-card__media">
        {playing && video ? (
          // biome-ignore lint/a11y/useMediaCaption: the generated clips carry no dialogue
          <video
            controls
            autoPlay
            playsInline
            src={video.url}
            poster={thumbnail}
            aria-label={t('lib.video', { prompt: content.prompt })}
          />
        ) : thumbnail ? (
          <img src={thumbnail} alt={t('lib.thumbnail', { prompt: content.prompt })} loading="lazy" />
        ) : null}
      </div>
      <p className="content-card__prompt">{content.prompt}</p>
      <p className="hint">
        {formatDate(language, content.createdAt)}
        {content.durationSeconds !== null && ` · ${content.durationSeconds.toFixed(1)} s`}
        {content.width && content.height ? ` · ${content.width}×${content.height}` : ''}
        {` · ${t('lib.meta', { credits: content.costCredits })}`}
      </p>
      <div className="content-card__actions">
        {video && !playing && (
          <button type="button" className="button button--small" onClick={() => setPlaying(true)}>
            {t('lib.play')}
          </button>
        )}
        {video && (
          <a className="button button--small" href={video.downloadUrl} download>
            {t('lib.download')}
          </a>
        )}
        <button
          type="button"
          className="button button--small button--danger"
          disabled={busy}
          onClick={() => void onDelete()}
        >
          {t('lib.delete')}
        </button>
      </div>
    </li>
  );
}

function Templates(props: { readonly onError: (message: string) => void }) {
  const t = useT();
  const [templates, setTemplates] = useAtom(templatesAtom);
  const setGraph = useSetAtom(graphAtom);
  const setRun = useSetAtom(runAtom);
  const setContent = useSetAtom(contentAtom);
  const setSelected = useSetAtom(selectedNodeIdAtom);
  const navigate = useSetAtom(navigateAtom);
  const { onError } = props;

  useEffect(() => {
    request('get', '/api/templates').then(
      (list) => setTemplates(list.templates),
      (caught: unknown) => onError(messageOf(caught)),
    );
  }, [setTemplates, onError]);

  const load = (template: Template) => {
    const graph = graphOfTemplate(template.graph);
    if (graph === null) return;
    setGraph(graph);
    setRun(IDLE_RUN);
    setContent(null);
    setSelected(graph.nodes[0]?.id ?? null);
    navigate('/create');
  };

  const remove = async (template: Template) => {
    if (!window.confirm(t('lib.confirmTemplate', { name: template.name }))) return;
    try {
      await request('delete', '/api/templates/{templateId}', { params: { templateId: template.id } });
      setTemplates((list) => (list ?? []).filter((entry) => entry.id !== template.id));
    } catch (caught) {
      onError(messageOf(caught));
    }
  };

  return (
    <section aria-labelledby="templates-title" className="templates">
      <h2 id="templates-title">{t('lib.templates')}</h2>
      {templates === null ? (
        <p>{t('app.loading')}</p>
      ) : (
        <ul className="template-list">
          {templates.map((template) => (
            <li key={template.id} className="template-list__item" data-testid="template">
              <span className="template-list__name">{template.name}</span>
              {template.builtIn && <span className="badge">{t('lib.builtIn')}</span>}
              <button type="button" className="button button--small" onClick={() => load(template)}>
                {t('lib.load')}
              </button>
              {!template.builtIn && (
                <button
                  type="button"
                  className="button button--small button--danger"
                  onClick={() => void remove(template)}
                >
                  {t('lib.delete')}
                </button>
              )}
            </li>
          ))}
          {templates.every((template) => template.builtIn) && (
            <li className="hint">{t('lib.noTemplates')}</li>
          )}
        </ul>
      )}
    </section>
  );
}
