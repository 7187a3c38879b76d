// Russian texts: the default language and the fallback for any key another catalog lacks.
// Every language has one file in this folder with the same keys (en.js); functions take values and return
// plain strings, which callers put into the DOM with textContent only.

// Russian plural form: plural(5, "минуту", "минуты", "минут").
export function plural(n, one, few, many) {
  const a = Math.abs(n) % 100;
  const b = a % 10;
  if (a > 10 && a < 20) return many;
  if (b > 1 && b < 5) return few;
  if (b === 1) return one;
  return many;
}

const ru = {
  // BCP 47 tag of this catalog, and the locale its numbers and dates are formatted for.
  lang: "ru",
  locale: "ru-RU",
  appName: "Подача заявки",
  titleSuffix: " — clpr",
  errorTitlePrefix: "Ошибка: ",
  skipLink: "Перейти к основному содержанию",
  // index.html carries the same shell texts for the first paint; app.js re-applies these.
  serviceName: "Подача заявки",
  footer: "clpr — приём заявок по страховым случаям",
  back: "Назад",
  // The switch in the header offers the other language, written in that language.
  languageSwitch: { lang: "en", label: "English", hint: "Switch to English" },
  loading: "Загружаем…",
  backToStart: "Вернуться к заявкам",

  errorSummaryTitle: "Есть проблема",
  errorHidden: "Ошибка:",

  errors: {
    network: "Не удалось связаться с сервером. Проверьте подключение к интернету и попробуйте ещё раз.",
    unavailable: "Сервис временно недоступен. Попробуйте ещё раз через минуту.",
    generic: "Что-то пошло не так. Попробуйте ещё раз.",
    notFound: "Заявка не найдена. Возможно, ссылка устарела.",
    forbidden: "Эта заявка принадлежит другому человеку.",
    sessionExpired: "Чтобы продолжить, войдите по номеру телефона.",
    meUnavailable: "Не удалось проверить вход: сервер не отвечает. Попробуйте войти ещё раз или вернитесь позже.",
  },

  telegram: {
    failed: "Не удалось войти через Telegram. Войдите по номеру телефона или откройте приложение из Telegram снова.",
  },

  login: {
    heading: "Войдите по номеру телефона",
    hint: "Мы отправим SMS с кодом. Например, +7\u00A0916\u00A0123-45-67",
    sendCode: "Получить код",
    sending: "Отправляем код…",
    phoneEmpty: "Введите номер мобильного телефона",
    phoneShort: "Введите номер полностью, например +7 916 123-45-67",
    haveCode: "У меня уже есть код",
  },

  code: {
    heading: "Введите код из SMS",
    sentTo: "Мы отправили код на ", // + the phone (kept on one line)
    label: "Код из SMS",
    hint: (minutes) => minutes
      ? `Код состоит из цифр и действует ${minutes} ${plural(minutes, "минуту", "минуты", "минут")}.`
      : "Код состоит из цифр.",
    verify: "Войти",
    verifying: "Проверяем код…",
    resend: "Отправить код ещё раз",
    resendIn: (s) => `Отправить код ещё раз можно через ${s} с`,
    resendReady: "Можно запросить новый код.",
    resent: "Мы отправили новый код на ", // + the phone
    changePhone: "Изменить номер",
    codeEmpty: "Введите код из SMS",
    codeDigits: "Код должен состоять только из цифр",
    attemptsLeft: (n) => `Осталось ${n} ${plural(n, "попытка", "попытки", "попыток")}.`,
    expired: "Срок действия кода истёк. Запросите новый код.",
    locked: "Слишком много неверных попыток. Запросите новый код.",
    notRequested: "Сначала запросите код.",
    noPhone: "Сначала введите номер телефона.",
  },

  home: {
    heading: "Заявки на страховые случаи",
    signedInAs: "Вы вошли по номеру ", // + the phone
    logout: "Выйти",
    newClaim: "Подать новую заявку",
    draftsHeading: "Черновики",
    draftsEmpty: "Черновиков нет.",
    draftStep: (n, m) => `Шаг ${n} из ${m}`,
    draftReady: "Все ответы заполнены — осталось отправить",
    draftAnswered: (n) => `Отвечено на ${n} ${plural(n, "вопрос", "вопроса", "вопросов")}`,
    changedAt: (d) => `Изменено ${d}`,
    createdOn: (d) => `Создан ${d}`,
    detail: (label, value) => `${label}: ${value}`,
    resume: "Продолжить",
    resumeHidden: (title, detail) => ` заполнение: ${title}${detail ? ", " + detail : ""}`,
    claimsHeading: "Ваши заявки",
    claimsEmpty: "Вы ещё не подавали заявок.",
    claimNumber: (n) => `Заявка № ${n}`,
    createdAt: (d) => `Подана ${d}`,
    loadFailed: "Не удалось загрузить список заявок.",
    retry: "Обновить",
  },

  type: {
    heading: "Что случилось?",
    hint: "Выберите, к какому случаю относится заявка.",
    start: "Начать заполнение",
    starting: "Создаём черновик…",
    empty: "Выберите тип заявки",
    none: "Сейчас нет доступных типов заявок. Попробуйте позже.",
  },

  wizard: {
    step: (n, m) => `Шаг ${n} из ${m}`,
    next: "Продолжить",
    toCheck: "Продолжить к проверке ответов",
    optional: " (необязательно)",
    // The date control is the browser's own (its typed order follows the browser's locale): no format example.
    dateHint: "Выберите дату в календаре или введите её",
    // A browser without a date control shows a plain text field: there the format is ours.
    dateTextHint: "Например, 03.12.2026",
    moneySuffix: "₽",
    moneyHint: "Сумма в рублях, например 12\u00A0345,67",
    phoneHint: "Например, +7\u00A0916\u00A0123-45-67",
    yes: "Да",
    no: "Нет",
    choose: "Выберите вариант",
    saving: "Сохраняем…",
    saved: "Сохранено",
    savedAt: (time) => `Сохранено в ${time}`,
    saveFailed: "Не удалось сохранить — повторим",
    saveRejected: "Не удалось сохранить ответы. Проверьте их и попробуйте ещё раз.",
    conflict: "Этот черновик изменили в другой вкладке или на другом устройстве. Мы показываем сохранённую версию вместе с вашими последними правками — проверьте ответы.",
    refreshed: "Этот черновик изменили в другой вкладке или на другом устройстве. Мы показываем последнюю сохранённую версию — проверьте ответы.",
    notDraft: "Эта заявка уже отправлена, изменить её нельзя.",
    openClaim: "Открыть заявку",
    // validation
    required: (label) => `Ответьте на вопрос «${label}»`,
    requiredChoice: (label) => `Выберите ответ на вопрос «${label}»`,
    tooLong: (label, n) => `Ответ на вопрос «${label}» должен быть не длиннее ${n} ${plural(n, "символа", "символов", "символов")}`,
    badDate: (label) => `Введите дату в поле «${label}» полностью: день, месяц и год`,
    futureDate: (label) => `«${label}» не может быть в будущем`,
    beforeDate: (label, other, date) => `«${label}» не может быть раньше, чем «${other}» (${date})`,
    badNumber: (label) => `Введите в поле «${label}» целое число`,
    tooSmall: (label, n) => `Число в поле «${label}» должно быть не меньше ${n}`,
    tooBig: (label, n) => `Число в поле «${label}» должно быть не больше ${n}`,
    badMoney: (label) => `Введите сумму в поле «${label}» цифрами, например 12 345,67`,
    badPhone: (label) => `Введите номер телефона в поле «${label}», например +7 916 123-45-67`,
  },

  check: {
    heading: "Проверьте ответы перед отправкой",
    intro: "Если нужно что-то исправить, нажмите «Изменить» рядом с ответом.",
    change: "Изменить",
    notAnswered: "Не указано",
    declaration: "Нажимая «Отправить заявку», вы подтверждаете, что сведения верны. Затем мы подготовим заявку и покажем её вам ещё раз, прежде чем принять.",
    submit: "Отправить заявку",
    submitting: "Отправляем…",
    stale: "Ответы изменились после отправки (возможно, в другой вкладке), поэтому подготовленная заявка больше не действует. Проверьте ответы и отправьте заявку ещё раз.",
  },

  wait: {
    heading: "Готовим вашу заявку",
    intro: "Мы проверяем ответы и составляем заявку: что в ней будет указано и какие документы понадобятся. Обычно это занимает несколько секунд.",
    waiting: "Ждём ответа…",
    slow: "Это занимает больше времени, чем обычно. Можно подождать здесь или вернуться позже: ответы сохранены, а когда заявка будет готова, её можно будет проверить и подтвердить из списка черновиков.",
    reconnecting: "Связь прервалась, подключаемся снова…",
    elapsed: (s) => `Прошло ${s} с`,
    ready: "Заявка готова. Открываем её для проверки…",
    errorHeading: "Не удалось подготовить заявку",
    error: "Не удалось подготовить заявку. Ответы сохранены — можно попробовать ещё раз или вернуться к ответам.",
    timeoutHeading: "Подготовка заняла слишком много времени",
    timeout: "Мы не успели подготовить заявку. Ответы сохранены — попробуйте ещё раз сейчас или вернитесь позже.",
    lost: "Не удалось получить ответ от сервера. Ответы сохранены — попробуйте ещё раз.",
    retry: "Попробовать ещё раз",
    retrying: "Отправляем ещё раз…",
    backToAnswers: "Вернуться к ответам",
    later: "Вернуться позже",
    leave: "Не хотите ждать? Вернитесь к заявкам — черновик сохранён.",
    telegramOffer: "Можно не ждать: мы пришлём Вам сообщение в Telegram, когда заявка будет готова.",
    telegramAsk: "Сообщить в Telegram, когда будет готово",
    telegramAsked: "Хорошо: мы пришлём сообщение в Telegram, когда заявка будет готова. Эту страницу можно закрыть.",
  },

  confirm: {
    heading: "Проверьте заявку перед отправкой",
    intro: "Проверьте сведения в форме ниже. Если всё верно, нажмите «Подтвердить» внизу формы. Если нужно что-то изменить, нажмите «Вернуться и изменить».",
    frameTitle: "Проверьте заявку перед отправкой",
    confirming: "Подтверждаем заявку…",
    cancelling: "Возвращаемся к ответам…",
    failed: "Заявка не подтверждена.", // + the reason, which says what to do
    notReady: "Заявка ещё не готова. Подождите немного.",
    frameFailed: "Не удалось показать заявку. Обновите страницу или вернитесь к ответам.",
    fallback: "Если форма не открылась:",
    backToAnswers: "Вернуться к ответам",
  },

  done: {
    panelTitle: "Заявка принята",
    numberLabel: "Номер заявки",
    copy: "Скопировать номер",
    copied: "Номер скопирован",
    copyFailed: "Не удалось скопировать. Выделите номер и скопируйте его вручную.",
    statusLabel: "Статус:",
    heading: (n) => `Заявка № ${n}`,
    typeLabel: "Тип заявки",
    createdLabel: "Создана",
    updatedLabel: "Изменена",
    nextHeading: "Что будет дальше",
    nextDefault: [
      "Мы проверим заявку и свяжемся с вами по телефону, если понадобятся уточнения.",
      "Подготовьте документы из списка ниже.",
      "Статус заявки можно посмотреть на этой странице или в списке заявок.",
    ],
    // The same once the documents were sent (status in_work): nothing more to get ready.
    nextInWork: [
      "Мы проверим заявку и свяжемся с Вами по телефону, если понадобятся уточнения.",
      "Статус заявки можно посмотреть на этой странице или в списке заявок.",
    ],
    docsHeading: "Какие документы понадобятся",
    docRequired: "обязательно",
    docOptional: "если есть",
    uploadLater: "Загрузить документы на сайте пока нельзя. Когда это станет возможно, загрузка появится на этой странице заявки. А пока подготовьте документы из списка.",
    uploadStepHint: "Загрузка документов появится на этой странице позже.",
    historyHeading: "История",
    draftNote: "Это черновик: заявка ещё не отправлена.",
    continueDraft: "Продолжить заполнение",
    toConfirm: "Проверить и подтвердить заявку",
  },

  // Status history on the claim page: any status code; unknown ones are shown by `statusUnknown`.
  statusUnknown: (code) => `Статус «${code}»`,

  claimPage: {
    receiptHeading: "Что Вы подтвердили",
    receiptIntro: "Это заявление в том виде, в каком Вы его подтвердили. Контрольная сумма позволяет проверить, что текст не изменился.",
    confirmedAt: "Подтверждено",
    declaration: "Заявление",
    answers: "Ответы",
    documents: "Документы",
    required: "обязательно",
    optional: "если есть",
    claimIdLabel: "Идентификатор заявки",
    submissionLabel: "Номер отправки",
    hashLabel: "Контрольная сумма (SHA-256)",
    hashHint: "SHA-256 от текста квитанции; как её пересчитать, описано в документации API.",
    download: "Скачать квитанцию (JSON)",
    uploadedHeading: "Загруженные документы",
    uploadedAt: (d) => `загружен ${d}`,
    planHeading: "Заявление",
    showContent: "Показать подтверждённый текст заявления",
  },

  // The documents step (web/js/views/documents.js).
  documents: {
    units: { decimal: ",", mb: (n) => `${n} МБ`, kb: (n) => `${n} КБ`, b: (n) => `${n} Б` },
    title: "Загрузите документы",
    caption: (number) => `Заявка № ${number}`,
    intro: "Заявка подтверждена. Чтобы мы начали работу, загрузите документы из списка: сканы или фотографии, по одному или несколько файлов на каждый документ.",
    limits: (size, count) => `Подходят PDF, JPEG, PNG, HEIC и WebP, каждый файл не больше ${size}, всего не больше ${count} файлов.`,
    required: "обязательно",
    optional: "если есть",
    uploaded: "загружено",
    dropHere: "Перетащите файлы сюда или",
    choose: "Выбрать файлы",
    camera: "Сфотографировать",
    uploading: "Загружается…",
    progressLabel: (name) => `Загрузка файла ${name}`,
    done: (name) => `Файл ${name} загружен`,
    retry: "Повторить",
    dismiss: "Убрать",
    remove: "Удалить",
    removeLabel: (name) => `Удалить файл ${name}`,
    removed: (name) => `Файл ${name} удалён`,
    download: "Скачать",
    tooLarge: "Файл слишком большой",
    tooLargeLocal: (size) => `Файл слишком большой: не больше ${size}`,
    send: "Отправить документы",
    waitUploads: "Дождитесь окончания загрузки файлов.",
    readyToSend: "Все обязательные документы загружены.",
    missingHint: (n) => `Осталось загрузить обязательных документов: ${n}.`,
    missingSlot: (title) => `Загрузите документ: ${title}`,
    later: "Загруженные файлы сохраняются сразу: можно закрыть страницу и вернуться к загрузке позже.",
    toClaim: "Перейти к странице заявки",
    toDocuments: "Загрузить документы",
    awaitingNote: "Заявка подтверждена и ждёт документов: загрузите их, чтобы мы начали работу.",
  },

  status: {
    draft: "Черновик",
    awaiting_documents: "Ждёт документов",
    in_work: "В работе",
    submitted: "Отправлена",
    completed: "Завершена",
    closed: "Закрыта",
    rejected: "Отклонена",
    cancelled: "Отменена",
  },

  notFound: {
    heading: "Страница не найдена",
    text: "Возможно, ссылка устарела или в ней опечатка.",
  },

  // Server error codes whose message this catalog words itself (the server's messages are Russian, except the
  // ones below).
  apiErrors: {
    shutting_down: "Сервис перезапускается, попробуйте через несколько секунд",
  },

  errorPage: {
    heading: "Не удалось открыть страницу",
    claimNotFound: "Заявка не найдена",
    forbidden: "Нет доступа к заявке",
    retry: "Попробовать ещё раз",
  },
};

export default ru;
