-- The editor stores plain text next to the Y.js state: say so in the column name.
alter table public.scripts rename column content to plain_text;

alter table public.scripts add column component_count integer not null default 0;

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
       set component_count = jsonb_array_length(p_components)
     where id = v_script_id;
    return v_script_id;
end;
$$;
