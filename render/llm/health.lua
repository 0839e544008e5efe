-- Health of a KServe LLMInferenceService. Written by kiln: Ready True is
-- Healthy; Ready False with a reason that says a workload failed is
-- Degraded; anything else (no status yet, rollout in progress) is
-- Progressing. The message is the first false condition's.
local hs = {status = "Progressing", message = "Waiting for the LLMInferenceService to become ready"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local ready = nil
local failing = nil
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    ready = c
  elseif c.status == "False" and failing == nil then
    failing = c
  end
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = "The LLMInferenceService is ready"
  return hs
end
local c = failing or ready
if c ~= nil then
  hs.message = (c.type or "") .. ": " .. (c.reason or "") .. " " .. (c.message or "")
  local r = c.reason or ""
  if string.find(r, "Fail") or string.find(r, "Error") or string.find(r, "Invalid") then
    hs.status = "Degraded"
  end
end
return hs
