-- Profiles for Supabase Auth users, created automatically on sign-up.
create table public.user_profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    email text not null unique,
    display_name text,
    role text not null default 'client',
    created_at timestamptz not null default now()
);

alter table public.user_profiles enable row level security;

create policy "Users can view own profile" on public.user_profiles
    for select to authenticated
    using (id = auth.uid());

create policy "Users can update own profile" on public.user_profiles
    for update to authenticated
    using (id = auth.uid())
    with check (id = auth.uid());

create or replace function public.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = public
as $$
begin
    insert into public.user_profiles (id, email, display_name, role)
    values (
        new.id,
        new.email,
        coalesce(new.raw_user_meta_data ->> 'full_name', split_part(new.email, '@', 1)),
        coalesce(new.raw_user_meta_data ->> 'role', 'client')
    );
    return new;
end;
$$;

create trigger on_auth_user_created
    after insert on auth.users
    for each row execute function public.handle_new_user();

create or replace function public.get_user_role()
returns text
language plpgsql
stable
security definer
set search_path = public
as $$
declare
    v_role text;
begin
    select role into v_role from public.user_profiles where id = auth.uid();
    return v_role;
end;
$$;
