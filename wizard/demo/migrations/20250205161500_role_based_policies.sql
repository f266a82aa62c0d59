-- Replace the "everyone may do everything" policies with admin / employee / client roles.

-- A SQL function can be inlined by the planner; the plpgsql version made every policy slow.
create or replace function public.get_user_role()
returns text
language sql
stable
security definer
set search_path = public
as $$
    select role from public.user_profiles where id = auth.uid()
$$;

drop policy "Authenticated users can manage projects" on public.projects;
drop policy "Authenticated users can manage videos" on public.videos;
drop policy "Authenticated users can manage scripts" on public.scripts;
drop policy "Authenticated users can manage script components" on public.script_components;

-- projects
create policy "Admins can manage projects" on public.projects
    for all to authenticated
    using (public.get_user_role() = 'admin')
    with check (public.get_user_role() = 'admin');

create policy "Employees can view projects" on public.projects
    for select to authenticated
    using (public.get_user_role() = 'employee');

drop policy "Clients can view their projects" on public.projects;
create policy "Clients can view their projects" on public.projects
    for select to authenticated
    using (client_filter in (select uc.client_filter from public.user_clients uc where uc.user_id = auth.uid()));

-- videos
create policy "Admins can manage videos" on public.videos
    for all to authenticated
    using (public.get_user_role() = 'admin')
    with check (public.get_user_role() = 'admin');

create policy "Employees can view videos" on public.videos
    for select to authenticated
    using (public.get_user_role() = 'employee');

create policy "Clients can view their videos" on public.videos
    for select to authenticated
    using (exists (
        select 1
          from public.projects p
          join public.user_clients uc on uc.client_filter = p.client_filter
         where p.id = videos.project_id and uc.user_id = auth.uid()
    ));

-- scripts
create policy "Admins can manage scripts" on public.scripts
    for all to authenticated
    using (public.get_user_role() = 'admin')
    with check (public.get_user_role() = 'admin');

create policy "Employees can manage scripts" on public.scripts
    for all to authenticated
    using (public.get_user_role() = 'employee')
    with check (public.get_user_role() = 'employee');

create policy "Clients can view their scripts" on public.scripts
    for select to authenticated
    using (exists (
        select 1
          from public.videos v
          join public.projects p on p.id = v.project_id
          join public.user_clients uc on uc.client_filter = p.client_filter
         where v.id = scripts.video_id and uc.user_id = auth.uid()
    ));

-- script_components
create policy "Admins can manage script components" on public.script_components
    for all to authenticated
    using (public.get_user_role() = 'admin')
    with check (public.get_user_role() = 'admin');

create policy "Employees can manage script components" on public.script_components
    for all to authenticated
    using (public.get_user_role() = 'employee')
    with check (public.get_user_role() = 'employee');

create policy "Clients can view their script components" on public.script_components
    for select to authenticated
    using (exists (
        select 1
          from public.scripts s
          join public.videos v on v.id = s.video_id
          join public.projects p on p.id = v.project_id
          join public.user_clients uc on uc.client_filter = p.client_filter
         where s.id = script_components.script_id and uc.user_id = auth.uid()
    ));

-- user_profiles and user_clients
create policy "Admins can view all profiles" on public.user_profiles
    for select to authenticated
    using (public.get_user_role() = 'admin');

create policy "Admins can manage client access" on public.user_clients
    for all to authenticated
    using (public.get_user_role() = 'admin')
    with check (public.get_user_role() = 'admin');
