-- Health of a Kubeflow Notebook. Written by kiln: a notebook stopped by
-- the culler or its owner is Suspended, one whose server is ready is
-- Healthy, one whose container cannot start (bad image, crash loop) is
-- Degraded, anything else Progressing.
local hs = {status = "Progressing", message = "Waiting for the notebook server to start"}
if obj.metadata ~= nil and obj.metadata.annotations ~= nil and obj.metadata.annotations["kubeflow-resource-stopped"] ~= nil then
  hs.status = "Suspended"
  hs.message = "Stopped since " .. obj.metadata.annotations["kubeflow-resource-stopped"]
  return hs
end
if obj.status == nil then
  return hs
end
if obj.status.readyReplicas ~= nil and obj.status.readyReplicas >= 1 then
  hs.status = "Healthy"
  hs.message = "The notebook server is ready"
  return hs
end
local state = obj.status.containerState
if state ~= nil and state.waiting ~= nil then
  local reason = state.waiting.reason or ""
  local bad = {CrashLoopBackOff = true, ImagePullBackOff = true, ErrImagePull = true, InvalidImageName = true, CreateContainerConfigError = true, CreateContainerError = true}
  if bad[reason] then
    hs.status = "Degraded"
  end
  hs.message = reason
  if state.waiting.message ~= nil then
    hs.message = reason .. ": " .. state.waiting.message
  end
end
return hs
