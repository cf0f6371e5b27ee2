-- A fixed GET (wrk builds it once): args = [bearer token].
dofile("report.lua")

function init(args)
   if args[1] and args[1] ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. args[1]
   end
end
