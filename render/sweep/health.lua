-- Health of a Katib Experiment, from its conditions. Written by kiln: an
-- experiment that ran its trials (or reached its goal) is Healthy, a failed
-- one Degraded, anything else Progressing with the best trial so far.
local hs = {status = "Progressing", message = "Waiting for Katib to start the experiment"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local found = {}
for _, c in ipairs(obj.status.conditions) do
  if c.status == "True" then
    found[c.type] = c.message or c.reason or c.type
  end
end
local trials = ""
if obj.status.trialsSucceeded ~= nil then
  trials = " (" .. tostring(obj.status.trialsSucceeded) .. " trials succeeded)"
end
if found["Failed"] ~= nil then
  hs.status = "Degraded"
  hs.message = found["Failed"] .. trials
elseif found["Succeeded"] ~= nil then
  hs.status = "Healthy"
  hs.message = found["Succeeded"] .. trials
elseif found["Running"] ~= nil then
  hs.message = found["Running"] .. trials
elseif found["Restarting"] ~= nil then
  hs.message = found["Restarting"] .. trials
elseif found["Created"] ~= nil then
  hs.message = found["Created"] .. trials
end
return hs
