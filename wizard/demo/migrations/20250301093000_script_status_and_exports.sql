-- Script review workflow, and a private bucket for exported scripts.
alter table public.scripts add column status text not null default 'draft';

alter table public.scripts
    add constraint scripts_status_check check (status in ('draft', 'in_review', 'rework', 'approved', 'reuse'));

create index idx_scripts_status on public.scripts (status);

-- Y.js state now lives in the collaboration server, not in the database.
alter table public.scripts drop column yjs_state;

create or replace function public.update_script_status(p_script_id uuid, p_new_status text)
returns public.scripts
language plpgsql
security definer
set search_path = public
as $$
declare
    v_script public.scripts;
begin
    if coalesce(public.get_user_role(), '') not in ('admin', 'employee') then
        raise exception 'only admins and employees may change a script''s status' using errcode = '42501';
    end if;
    update public.scripts set status = p_new_status where id = p_script_id returning * into v_script;
    if not found then
        raise exception 'script % not found', p_script_id using errcode = 'P0002';
    end if;
    return v_script;
end;
$$;

insert into storage.buckets (id, name, public)
values ('script-exports', 'script-exports', false)
on conflict (id) do nothing;
