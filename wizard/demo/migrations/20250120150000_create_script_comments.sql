-- Review comments on scripts (reviewers asked for inline notes).
create table public.script_comments (
    id uuid primary key default gen_random_uuid(),
    script_id uuid not null references public.scripts (id),
    author_id uuid references public.user_profiles (id),
    body text not null,
    resolved boolean not null default false,
    created_at timestamptz not null default now()
);

create index idx_script_comments_script_id on public.script_comments (script_id);

alter table public.script_comments enable row level security;

create policy "Authenticated users can manage comments" on public.script_comments
    for all to authenticated
    using (true)
    with check (true);

create or replace function public.get_script_comments(p_script_id uuid)
returns setof public.script_comments
language sql
stable
as $$
    select * from public.script_comments where script_id = p_script_id order by created_at
$$;
