-- Bookkeeping for the SmartSuite sync job: one row per synced collection.
create table public.sync_metadata (
    id text primary key,
    status text not null default 'idle',
    last_sync_started_at timestamptz,
    last_sync_completed_at timestamptz,
    sync_count integer not null default 0,
    last_error text,
    updated_at timestamptz not null default now()
);

create or replace function public.update_sync_metadata_timestamp()
returns trigger
language plpgsql
as $$
begin
    new.updated_at = now();
    if new.last_sync_completed_at is distinct from old.last_sync_completed_at then
        new.sync_count = old.sync_count + 1;
    end if;
    return new;
end;
$$;

create trigger sync_metadata_updated_at
    before update on public.sync_metadata
    for each row execute function public.update_sync_metadata_timestamp();

alter table public.sync_metadata enable row level security;

create policy "Staff can manage sync metadata" on public.sync_metadata
    for all to authenticated
    using (public.get_user_role() in ('admin', 'employee'))
    with check (public.get_user_role() in ('admin', 'employee'));
