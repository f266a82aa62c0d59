-- Hand-made changes applied to the EAV Orchestrator databases through the Supabase
-- dashboard's SQL editor, never written back into a migration file.

-- Deleting a project failed while it had videos: add the cascades in place.
alter table public.videos
    drop constraint videos_project_id_fkey,
    add constraint videos_project_id_fkey
        foreign key (project_id) references public.projects (id) on delete cascade;

alter table public.scripts
    drop constraint scripts_video_id_fkey,
    add constraint scripts_video_id_fkey
        foreign key (video_id) references public.videos (id) on delete cascade;

alter table public.script_components
    drop constraint script_components_script_id_fkey,
    add constraint script_components_script_id_fkey
        foreign key (script_id) references public.scripts (id) on delete cascade;

-- The updated_at trigger fired on every autosave and fought with the editor's own
-- timestamps; it was dropped and the save function now sets updated_at itself.
drop trigger update_scripts_updated_at on public.scripts;

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
        insert into public.scripts (video_id, plain_text)
        values (p_video_id, p_plain_text)
        returning id into v_script_id;
    else
        update public.scripts set plain_text = p_plain_text where id = v_script_id;
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

    update public.scripts
       set component_count = jsonb_array_length(p_components),
           updated_at = now()
     where id = v_script_id;
    return v_script_id;
end;
$$;
