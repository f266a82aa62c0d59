-- Scripts are split into numbered components (one per paragraph) for the production team.
create table public.script_components (
    id uuid primary key default gen_random_uuid(),
    script_id uuid not null references public.scripts (id),
    component_number integer not null,
    content text not null,
    word_count integer not null default 0,
    created_at timestamptz not null default now(),
    unique (script_id, component_number)
);

create index idx_script_components_script_id on public.script_components (script_id);

alter table public.script_components enable row level security;

create policy "Authenticated users can manage script components" on public.script_components
    for all to authenticated
    using (true)
    with check (true);

-- Save a script and replace its components in one transaction.
create or replace function public.save_script_with_components(
    p_video_id uuid,
    p_plain_text text,
    p_components jsonb
)
returns uuid
language plpgsql
as $$
declare
    v_script_id uuid;
    v_component jsonb;
begin
    select id into v_script_id from public.scripts where video_id = p_video_id;
    if v_script_id is null then
        insert into public.scripts (video_id, content)
        values (p_video_id, p_plain_text)
        returning id into v_script_id;
    else
        update public.scripts set content = p_plain_text where id = v_script_id;
    end if;

    delete from public.script_components where script_id = v_script_id;
    for v_component in select * from jsonb_array_elements(p_components) loop
        insert into public.script_components (script_id, component_number, content, word_count)
        values (
            v_script_id,
            (v_component ->> 'number')::integer,
            v_component ->> 'content',
            coalesce((v_component ->> 'wordCount')::integer, 0)
        );
    end loop;
    return v_script_id;
end;
$$;
