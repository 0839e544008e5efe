-- Health of a Kubeflow Trainer v2 TrainJob, from its conditions
-- (Suspended, Complete, Failed). Written by kiln: a complete job is
-- Healthy, a failed one Degraded, a suspended one (held by Kueue, or
-- suspended by its spec) Suspended, anything else still Progressing.
local hs = {status = "Progressing", message = "Waiting for the trainer controller to start the job"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local found = {}
for _, c in ipairs(obj.status.conditions) do
  if c.status == "True" then
    found[c.type] = c.message or c.reason or c.type
  end
end
if found["Failed"] ~= nil then
  hs.status = "Degraded"
  hs.message = found["Failed"]
elseif found["Complete"] ~= nil then
  hs.status = "Healthy"
  hs.message = found["Complete"]
elseif found["Suspended"] ~= nil then
  hs.status = "Suspended"
  hs.message = found["Suspended"]
else
  hs.message = "Running"
end
return hs
