-- Which clients (SmartSuite client filters) each client user may see.
create table public.user_clients (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.user_profiles (id),
    client_filter text not null,
    granted_by uuid references public.user_profiles (id),
    granted_at timestamptz not null default now(),
    unique (user_id, client_filter)
);

alter table public.user_clients enable row level security;

create policy "Users can view own client access" on public.user_clients
    for select to authenticated
    using (user_id = auth.uid());

alter table public.user_profiles
    add constraint user_profiles_role_check check (role in ('admin', 'employee', 'client'));
