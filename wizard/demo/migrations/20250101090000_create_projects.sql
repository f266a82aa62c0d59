-- Projects mirror the client projects tracked in SmartSuite (one row per EAV code).
create table public.projects (
    id uuid primary key default gen_random_uuid(),
    title text not null,
    eav_code text not null,
    client_filter text,
    due_date date,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint projects_eav_code_key unique (eav_code)
);

alter table public.projects enable row level security;

-- First pass at access control: every signed-in user may do everything.
create policy "Authenticated users can manage projects" on public.projects
    for all to authenticated
    using (true)
    with check (true);

create policy "Clients can view their projects" on public.projects
    for select to authenticated
    using (client_filter is not null);
