-- The client policies joined user_clients in every row check and broke for clients with
-- several client filters; one security-definer helper answers "may this user see it?".
create or replace function public.user_can_access_project(p_project_id uuid)
returns boolean
language sql
stable
security definer
set search_path = public
as $$
    select exists (
        select 1
          from public.projects p
          join public.user_clients uc on uc.client_filter = p.client_filter
         where p.id = p_project_id and uc.user_id = auth.uid()
    )
$$;

drop policy "Clients can view their projects" on public.projects;
create policy "Clients can view their projects" on public.projects
    for select to authenticated
    using (public.get_user_role() = 'client' and public.user_can_access_project(id));

drop policy "Clients can view their videos" on public.videos;
create policy "Clients can view their videos" on public.videos
    for select to authenticated
    using (public.get_user_role() = 'client' and public.user_can_access_project(project_id));

drop policy "Clients can view their scripts" on public.scripts;
create policy "Clients can view their scripts" on public.scripts
    for select to authenticated
    using (public.get_user_role() = 'client' and exists (
        select 1 from public.videos v
         where v.id = scripts.video_id and public.user_can_access_project(v.project_id)
    ));

drop policy "Clients can view their script components" on public.script_components;
create policy "Clients can view their script components" on public.script_components
    for select to authenticated
    using (public.get_user_role() = 'client' and exists (
        select 1
          from public.scripts s
          join public.videos v on v.id = s.video_id
         where s.id = script_components.script_id and public.user_can_access_project(v.project_id)
    ));

create index idx_projects_client_filter on public.projects (client_filter);
