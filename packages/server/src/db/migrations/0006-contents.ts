import { type Kysely, sql } from 'kysely';

/**
 * The content library: `contents`, one row per completed run that produced media (its prompts, the
 * blob keys of its image, video and thumbnail, the video's duration, resolution and size, what the
 * run cost and which providers made it). `(run_id, user_id)` references `runs(id, user_id)`, so a
 * content's owner is always its run's owner, and `run_id` is unique: a run records at most one
 * content (the recorder inserts with `on conflict do nothing`). Media columns come in consistent
 * groups (a video has its duration; width and height go together), and a content has a video or an
 * image.
 */
const statements = [
  `alter table runs add constraint runs_id_user unique (id, user_id)`,
  `create table contents (
    id text primary key check (length(id) between 1 and 255),
    user_id text not null references users(id) on delete cascade,
    run_id text not null,
    prompt text not null check (length(prompt) <= 10000),
    enhanced_prompt text check (enhanced_prompt is null or length(enhanced_prompt) <= 20000),
    image_key text check (image_key is null or length(image_key) between 1 and 1024),
    video_key text check (video_key is null or length(video_key) between 1 and 1024),
    thumbnail_key text check (thumbnail_key is null or length(thumbnail_key) between 1 and 1024),
    duration_seconds double precision check (duration_seconds is null or duration_seconds > 0),
    width integer check (width is null or width > 0),
    height integer check (height is null or height > 0),
    file_size_bytes bigint not null check (file_size_bytes >= 0),
    cost_credits integer not null check (cost_credits >= 0),
    text_provider_id text check (text_provider_id is null or length(text_provider_id) between 1 and 100),
    image_provider_id text check (image_provider_id is null or length(image_provider_id) between 1 and 100),
    video_provider_id text check (video_provider_id is null or length(video_provider_id) between 1 and 100),
    created_at timestamptz not null default now(),
    constraint contents_run unique (run_id),
    constraint contents_run_owner foreign key (run_id, user_id) references runs(id, user_id) on delete cascade,
    constraint contents_has_media check (video_key is not null or image_key is not null),
    constraint contents_video_duration check ((video_key is null) = (duration_seconds is null)),
    constraint contents_resolution check ((width is null) = (height is null))
  )`,
  `create index contents_user_created on contents(user_id, created_at desc, id desc)`,
  `create index contents_created on contents(created_at)`,
];

/** Creates `contents`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Drops `contents` and the key it references on `runs`. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop table if exists contents cascade').execute(db);
  await sql.raw('alter table runs drop constraint if exists runs_id_user').execute(db);
}
