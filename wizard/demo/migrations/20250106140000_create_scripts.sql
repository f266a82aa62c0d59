-- One script per video, edited collaboratively (Y.js state kept alongside the text).
create table public.scripts (
    id uuid primary key default gen_random_uuid(),
    video_id uuid references public.videos (id),
    content text,
    yjs_state bytea,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create or replace function public.update_updated_at_column()
returns trigger
language plpgsql
as $$
begin
    new.updated_at = now();
    return new;
end;
$$;

create trigger update_scripts_updated_at
    before update on public.scripts
    for each row execute function public.update_updated_at_column();

alter table public.scripts enable row level security;

create policy "Authenticated users can manage scripts" on public.scripts
    for all to authenticated
    using (true)
    with check (true);
