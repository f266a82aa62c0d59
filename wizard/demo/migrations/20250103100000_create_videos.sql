-- Videos belong to a project; each has a main stream and a voice-over stream.
create table public.videos (
    id uuid primary key default gen_random_uuid(),
    project_id uuid not null references public.projects (id),
    title text not null,
    main_stream_status text,
    vo_stream_status text,
    production_type text,
    created_at timestamptz not null default now()
);

create index idx_videos_project_id on public.videos (project_id);

alter table public.videos enable row level security;

create policy "Authenticated users can manage videos" on public.videos
    for all to authenticated
    using (true)
    with check (true);
