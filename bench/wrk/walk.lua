-- Walks a prepared list so that every item is sent once: args = kind, file, threads.
--   code:  phone <TAB> client ip     POST /user/veryfi/  (X-Forwarded-For: a distinct client)
--   login: phone <TAB> code          POST /user/auth/
--   refer: token <TAB> invite code   POST /users/refer/
-- A thread that runs out of items starts again from its first; each such request is counted as
-- `reused` (the service refuses it, so it also shows up as non-2xx).
dofile("report.lua")

-- `reused` and `walked` are globals: done() reads them with thread:get().
local kind, items

function init(args)
   kind = args[1]
   items = load_lines(args[2], tid, tonumber(args[3]))
   reused = 0
   walked = 0
end

local json_headers = { ["Content-Type"] = "application/json" }

function request()
   walked = walked + 1
   if walked > #items then
      reused = reused + 1
   end
   local f = split(items[(walked - 1) % #items + 1])
   if kind == "code" then
      return wrk.format("POST", "/user/veryfi/",
         { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = f[2] },
         '{"phone":"' .. f[1] .. '"}')
   elseif kind == "login" then
      return wrk.format("POST", "/user/auth/", json_headers,
         '{"phone":"' .. f[1] .. '","otp_code":"' .. f[2] .. '"}')
   else
      return wrk.format("POST", "/users/refer/",
         { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. f[1] },
         '{"referral_code":"' .. f[2] .. '"}')
   end
end
