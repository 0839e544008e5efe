-- Health of a Kubeflow training job (PyTorchJob, TFJob, XGBoostJob,
-- PaddleJob, MXJob; MPIJob v2beta1), from the operator's job conditions.
-- Written by kiln: a finished job is Healthy, a failed one Degraded, a job
-- held by Kueue Suspended, anything else still Progressing.
local hs = {status = "Progressing", message = "Waiting for the operator to start the job"}
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
elseif found["Succeeded"] ~= nil then
  hs.status = "Healthy"
  hs.message = found["Succeeded"]
elseif found["Suspended"] ~= nil then
  hs.status = "Suspended"
  hs.message = found["Suspended"]
elseif found["Restarting"] ~= nil then
  hs.message = found["Restarting"]
elseif found["Running"] ~= nil then
  hs.message = found["Running"]
elseif found["Created"] ~= nil then
  hs.message = found["Created"]
end
return hs
