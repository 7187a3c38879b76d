-- bench/wizard/submit.lua - clpr's copy of the harness's wrk script for the "wizard submit" workload
-- (/work/shared/bench/wizard/submit.lua). Same body shape, people, phone formats and session tokens, but the
-- answers are the questions of clpr's catalog (Sources/AppCore/Catalog/ClaimCatalog.swift), all strings, valid
-- (dates in the past, select values from the options, money as digits), ~600 bytes: the harness's own answer
-- keys would get 422 validation_failed from clpr. The seed peer accepts any answers object, so both servers run
-- this same script. clpr takes the person from the session cookie (WIZARD_PEOPLE_FILE, PHONE<TAB>COOKIE, from
-- `clpr bench-seed --people N --people-file F`) and ignores "session_token" and "phone" in the body.
--
-- The original:
--   POST /api/v1/claims/wizard  Content-Type: application/json
--   {"session_token": "<32 hex, new for every request>",
--    "phone": "<one of WIZARD_PEOPLE people, in a random Russian format>",
--    "type_code": "travel" | "property" | "osago",
--    "answers": {... ~600 bytes of Russian text, type-specific ...}}
-- Expects 202 with a body containing "claim_id".
--
-- Env:
--   WIZARD_PEOPLE       size of the person pool (default 20000); person i always has the same
--                       number and name, so people repeat across requests and runs
--   WIZARD_PEOPLE_FILE  instead of a generated pool: one person per line, PHONE or PHONE<TAB>COOKIE;
--                       the last 10 digits of PHONE are used (re-formatted at random per request),
--                       COOKIE is sent as that person's whole Cookie header
--   WIZARD_LUA_DIR      where wrk_report.lua is (default "wizard", relative to the working dir)
--   WRK_SEED            random seed (measure.py sets a new one per run)
-- Usage: wrk -t2 -c64 -d20s -s wizard/submit.lua http://127.0.0.1:7800/api/v1/claims/wizard

dofile((os.getenv("WIZARD_LUA_DIR") or "wizard") .. "/wrk_report.lua")
EXPECT_STATUS = 202
EXPECT_BODY = '"claim_id"'

local random, format, concat = math.random, string.format, table.concat

local people = {}   -- { {digits10, cookie_or_nil}, ... }

local NAMES = {
  "Иванов Сергей Петрович", "Смирнова Анна Викторовна", "Кузнецов Дмитрий Алексеевич",
  "Попова Екатерина Игоревна", "Соколов Андрей Николаевич", "Лебедева Мария Сергеевна",
  "Новиков Павел Андреевич", "Морозова Ольга Дмитриевна", "Волков Илья Олегович",
  "Фёдорова Наталья Юрьевна", "Михайлов Артём Викторович", "Алексеева Юлия Романовна",
}

local TYPES = {
  travel = {
    places = { "Турция, Анталья", "Египет, Хургада", "Таиланд, Пхукет", "ОАЭ, Дубай",
               "Грузия, Батуми", "Вьетнам, Нячанг", "Италия, Римини", "Испания, Барселона" },
    events = { "Острое заболевание", "Травма", "Задержка рейса", "Утеря багажа" },
    text = {
      "На третий день отдыха поднялась температура до 39 и появилась сильная боль в горле.",
      "Обратились в клинику при отеле, врач диагностировал острый тонзиллит и назначил антибиотики.",
      "Ребёнок поскользнулся у бассейна и повредил запястье, сделали рентген и наложили гипс.",
      "Рейс задержали на одиннадцать часов, пришлось оплатить гостиницу и питание в аэропорту.",
      "Багаж не прибыл вместе с рейсом, авиакомпания выдала справку о неприбытии багажа.",
      "Вызвали скорую помощь в отель, в больнице провели обследование и оставили на сутки.",
      "Все чеки и выписки из клиники сохранены, готов приложить их к заявлению.",
      "Лечение оплатил сам банковской картой, прошу возместить расходы по полису.",
    },
  },
  property = {
    places = { "г. Москва, ул. Профсоюзная, д. 56, кв. 112", "г. Казань, ул. Баумана, д. 12, кв. 7",
               "г. Екатеринбург, ул. Малышева, д. 84, кв. 31", "г. Новосибирск, Красный проспект, д. 25, кв. 60",
               "г. Санкт-Петербург, Лиговский проспект, д. 140, кв. 18" },
    events = { "Залив квартиры", "Пожар", "Кража со взломом", "Повреждение стихийным бедствием" },
    text = {
      "Соседи сверху оставили открытым кран, вода протекла через потолок на кухне и в коридоре.",
      "Пострадали натяжной потолок, обои в коридоре, ламинат и кухонный гарнитур.",
      "Управляющая компания составила акт о заливе, копия акта у меня на руках.",
      "Ночью произошло короткое замыкание, от проводки загорелась стена в спальне.",
      "Пожарные потушили огонь, но мебель и техника в комнате повреждены дымом и водой.",
      "Во время отъезда неизвестные вскрыли входную дверь и вынесли ноутбук и украшения.",
      "Полиция приняла заявление, выдан талон-уведомление о регистрации сообщения.",
      "Прошу направить оценщика для осмотра повреждений в удобное для меня время.",
    },
  },
  osago = {
    places = { "Москва, пересечение Ленинского проспекта и ул. Обручева", "Казань, проспект Победы, д. 100",
               "Санкт-Петербург, Московское шоссе, 15 км", "Краснодар, ул. Красная у д. 176",
               "Нижний Новгород, площадь Горького" },
    events = { "Наезд сзади", "Столкновение при перестроении", "Повреждение на парковке", "Столкновение на перекрёстке" },
    text = {
      "Стоял на светофоре, в заднюю часть моего автомобиля въехал другой автомобиль.",
      "Второй участник признал вину, оформили европротокол без вызова ГИБДД.",
      "Повреждены задний бампер, крышка багажника и правый задний фонарь.",
      "При перестроении водитель соседнего ряда не уступил дорогу и задел переднее крыло.",
      "На место приезжали сотрудники ГИБДД, составлена схема ДТП и выдано постановление.",
      "Автомобиль на ходу, но нужен ремонт кузова и покраска двух элементов.",
      "Пострадавших нет, есть запись с видеорегистратора.",
      "Прошу организовать осмотр автомобиля и выдать направление на ремонт.",
    },
  },
}
local TYPE_CODES = { "travel", "property", "osago" }
local CARS = { "Kia Rio", "Hyundai Solaris", "Lada Vesta", "Toyota Camry", "Volkswagen Polo", "Skoda Octavia" }
local PLATE_LETTERS = { "А", "В", "Е", "К", "М", "Н", "О", "Р", "С", "Т", "У", "Х" }

function init(args)
  seed_random()
  local path = os.getenv("WIZARD_PEOPLE_FILE")
  if path and path ~= "" then
    for _, row in ipairs(read_tsv(path)) do
      local digits = row[1]:gsub("%D", "")
      assert(#digits >= 10, "people file: no 10-digit phone in '" .. row[1] .. "'")
      people[#people + 1] = { digits:sub(-10), row[2] }
    end
  else
    local n = tonumber(os.getenv("WIZARD_PEOPLE") or "20000")
    for i = 0, n - 1 do
      -- a fixed, distinct mobile number per person: 9XX XXX XX XX
      people[#people + 1] = { format("9%09d", (i * 7919 + 104729) % 1000000000), nil }
    end
  end
end

local function phone_format(d)
  local a, b, c, e = d:sub(1, 3), d:sub(4, 6), d:sub(7, 8), d:sub(9, 10)
  local k = random(1, 10)
  if k == 1 then return "+7" .. d
  elseif k == 2 then return "8" .. d
  elseif k == 3 then return "7" .. d
  elseif k == 4 then return d
  elseif k == 5 then return "+7 (" .. a .. ") " .. b .. "-" .. c .. "-" .. e
  elseif k == 6 then return "8 (" .. a .. ") " .. b .. "-" .. c .. "-" .. e
  elseif k == 7 then return "+7 " .. a .. " " .. b .. "-" .. c .. "-" .. e
  elseif k == 8 then return "8-" .. a .. "-" .. b .. "-" .. c .. "-" .. e
  elseif k == 9 then return "+7 " .. a .. " " .. b .. c .. e
  else return "7 " .. a .. " " .. b .. " " .. c .. " " .. e end
end

local function pick(t) return t[random(1, #t)] end

local function date(y, m0, span_days)
  local day = random(0, span_days)
  local m = m0 + math.floor(day / 28)
  return format("%04d-%02d-%02d", y + math.floor((m - 1) / 12), (m - 1) % 12 + 1, day % 28 + 1)
end

local function description(texts)   -- two distinct sentences
  local n = #texts
  local i = random(1, n)
  return texts[i] .. " " .. texts[(i - 1 + random(1, n - 1)) % n + 1]
end

local TRAVEL_KINDS = { "medical", "baggage", "delay", "other" }
local PROPERTY_KINDS = { "flood", "fire", "theft", "other" }
local REGISTRATIONS = { "europrotocol", "police", "not_yet" }
local YESNO = { "yes", "no" }

-- answers for clpr's catalog: every value a string, dates in 2025 (never in the future), ~600 bytes in all
local function answers(type_code, person_index)
  local t = TYPES[type_code]
  local name = NAMES[person_index % #NAMES + 1]
  local text = description(t.text) .. " Заявитель: " .. name .. "."
  if type_code == "travel" then
    local start = date(2025, 1, 120)
    return format('{"policy_number":"ВЗР-%09d","event_kind":"%s","trip_country":"%s","trip_start":"%s","event_date":"%s","description":"%s","expenses":"%d.%02d","contacted_assistance":"%s"}',
      random(0, 999999999), pick(TRAVEL_KINDS), pick(t.places), start, start, text, random(80, 4000) * 10,
      random(0, 99), pick(YESNO))
  elseif type_code == "property" then
    return format('{"policy_number":"ИМ-2025-%06d","damage_kind":"%s","event_date":"%s","address":"%s","description":"%s","estimated_damage":"%d","authorities_notified":"%s"}',
      random(0, 999999), pick(PROPERTY_KINDS), date(2025, 1, 300), pick(t.places), text, random(15, 900) * 1000,
      pick(YESNO))
  else
    return format('{"policy_number":"ХХХ %010d","event_date":"%s","event_place":"%s","vehicle_plate":"%s%03d%s%s%d","registration":"%s","other_driver_policy":"ТТТ %010d","injuries":"%s","description":"%s"}',
      random(0, 2147483646), date(2025, 1, 300), pick(t.places), pick(PLATE_LETTERS), random(1, 999),
      pick(PLATE_LETTERS), pick(PLATE_LETTERS), pick({ 77, 97, 177, 199, 716, 78, 23 }), pick(REGISTRATIONS),
      random(0, 2147483646), pick(YESNO), text)
  end
end

local function session_token()
  -- 30 random hex digits + the thread number: distinct across threads and (with WRK_SEED) runs
  return format("%04x%04x%04x%04x%04x%04x%04x%02x%02x", random(0, 65535), random(0, 65535),
    random(0, 65535), random(0, 65535), random(0, 65535), random(0, 65535), random(0, 65535),
    random(0, 255), (tid or 0) % 256)
end

local JSON_HEADERS = { ["Content-Type"] = "application/json" }
local COOKIE_HEADERS = {}

function request()
  local idx = random(1, #people)
  local person = people[idx]
  local type_code = TYPE_CODES[random(1, 3)]
  local body = concat({ '{"session_token":"', session_token(), '","phone":"', phone_format(person[1]),
    '","type_code":"', type_code, '","answers":', answers(type_code, idx), "}" })
  n_req, n_req_bytes = n_req + 1, n_req_bytes + #body
  local headers = JSON_HEADERS
  if person[2] then
    COOKIE_HEADERS["Content-Type"] = "application/json"
    COOKIE_HEADERS["Cookie"] = person[2]
    headers = COOKIE_HEADERS
  end
  return wrk.format("POST", nil, headers, body)
end
