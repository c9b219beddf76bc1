// The demo page: create a challenge through the demo routes, show the code, the number, the SMS,
// the sms: link and its QR code, then follow the challenge's status live until it is final.
// "Can't send an SMS? Get a code instead" switches the challenge to `sms`: the page shows the SMS
// the demo outbox kept and a field for the code, with the attempts left after a wrong one.
//
// The status comes from GET /v1/challenges/:id/events (Server-Sent Events) read with fetch()
// streaming rather than EventSource. EventSource cannot send headers, so it would need the poll
// token in the URL, where proxies' access logs, Referer headers and browser tooling keep it; with
// fetch the token travels in the X-Poll-Token header like every other read, and the public API
// needs no second way to present it. What EventSource would add, reconnection, is a few lines
// here: each new stream starts with the current state, so nothing is missed in between.
const strings = JSON.parse(document.getElementById("demo-strings").textContent);
const FINAL = new Set(["verified", "expired", "failed", "cancelled"]);

const $ = (id) => document.getElementById(id);
const form = $("challenge-form");
const purpose = $("purpose");
const transactionFields = $("transaction-fields");
const submit = $("submit");
const formError = $("form-error");
const result = $("result");
const statusEl = $("status");
const simulate = $("simulate");
const resultError = $("result-error");
const simulateStatus = $("simulate-status");
const country = $("country");
const phoneHint = $("phone-hint");

/** The form control of each field a problem can name. */
const FIELD_CONTROLS = {
  phone: "phone",
  country: "country",
  purpose: "purpose",
  locale: "locale",
  "context.amount": "amount",
  "context.currency": "currency",
  "context.merchant": "merchant",
};

/** The hint cites an example number of the selected country, in its national format. */
function showPhoneHint() {
  const selected = country.selectedOptions[0];
  if (!selected?.dataset.example) return;
  phoneHint.textContent = strings.phoneHint.replace("{example}", selected.dataset.example).replace("{country}", selected.dataset.name);
}
country.addEventListener("change", showPhoneHint);

/** The challenge on screen: { id, pollToken, simulationTicket }, and the stream's AbortController. */
let current;

function showTransactionFields() {
  const on = purpose.value === "transaction";
  transactionFields.hidden = !on;
  // Disabled controls are neither validated nor submitted while hidden.
  transactionFields.disabled = !on;
}
purpose.addEventListener("change", showTransactionFields);
showTransactionFields();

/** The sms: link for this device: iOS reads the body after "&", Android and the RFC after "?". */
function smsLinkFor(uris) {
  const ua = navigator.userAgent;
  const isIos = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
  return isIos ? uris.ios : uris.android;
}

/**
 * An Error for a problem answer. The service words `detail` in the page's language
 * (Accept-Language), so it is shown once, as it is; the fields it names are marked on the form.
 */
function problemError(problem, status) {
  const error = new Error(problem.detail || problem.title || `HTTP ${status}`);
  error.status = status;
  error.fields = Array.isArray(problem.errors) ? problem.errors.map((e) => e.field) : [];
  error.code = problem.code;
  error.attemptsRemaining = problem.attemptsRemaining;
  return error;
}

/** Marks the controls of the named fields invalid (aria-invalid, described by the error); clears the rest. */
function markInvalid(fields) {
  for (const id of Object.values(FIELD_CONTROLS)) {
    const control = $(id);
    control.removeAttribute("aria-invalid");
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter((d) => d && d !== "form-error");
    if (described.length > 0) control.setAttribute("aria-describedby", described.join(" "));
    else control.removeAttribute("aria-describedby");
  }
  const controls = fields.map((f) => FIELD_CONTROLS[f]).filter(Boolean).map((id) => $(id));
  for (const control of controls) {
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), "form-error"].filter(Boolean).join(" "));
  }
  return controls[0];
}

async function postJson(url, body, headers = {}) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": document.documentElement.lang, ...headers },
      body: JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new Error(strings.networkError);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw problemError(data, response.status);
  return data;
}

function showError(el, message) {
  el.textContent = `${strings.errorPrefix} ${message}`;
  el.hidden = false;
}

function setStatus(status) {
  statusEl.dataset.status = status;
  // After a fallback, pending means waiting for the typed code, not for an SMS from the visitor.
  const classic = !$("classic").hidden;
  statusEl.textContent = status === "pending" && classic ? strings.classicPending : (strings.status[status] ?? status);
  // Once final, sending an SMS is over: the QR code, the sms: button and the simulation step back
  // and the status is what the page is about.
  $("send-steps").hidden = FINAL.has(status);
  $("check-form").hidden = FINAL.has(status);
  result.dataset.final = FINAL.has(status) ? status : "";
}

/** Reads one SSE stream, calling onView for each `status` event; resolves when the stream ends. */
async function readStatusStream(id, pollToken, signal, onView) {
  const response = await fetch(`/v1/challenges/${encodeURIComponent(id)}/events`, {
    headers: { "X-Poll-Token": pollToken, Accept: "text/event-stream", "Accept-Language": document.documentElement.lang },
    cache: "no-store",
    signal,
  });
  if (!response.ok) {
    throw problemError(await response.json().catch(() => ({})), response.status);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (event === "status" && data.length > 0) onView(JSON.parse(data.join("\n")));
    }
  }
}

/** Follows the status until it is final, reconnecting after a lost connection. */
async function watch(challenge, controller) {
  let last;
  let delayMs = 500;
  while (!controller.signal.aborted && !FINAL.has(last)) {
    try {
      await readStatusStream(challenge.id, challenge.pollToken, controller.signal, (view) => {
        last = view.status;
        delayMs = 500;
        setStatus(view.status);
      });
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error.status && error.status < 500) {
        showError(resultError, error.message);
        return;
      }
    }
    if (controller.signal.aborted || FINAL.has(last)) return;
    statusEl.textContent = strings.status.reconnecting;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 10_000);
  }
}

function formatTime(iso) {
  return new Date(iso).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function showChallenge(challenge) {
  $("code").textContent = challenge.code;
  $("sms-to").textContent = challenge.smsTo;
  $("phone-masked").textContent = challenge.phoneMasked;
  $("expires").textContent = formatTime(challenge.expiresAt);
  $("sms-body").textContent = challenge.smsBody;
  $("sms-link").href = smsLinkFor(challenge.smsUri);
  // The server drew the QR code as SVG; shown as an image, never inserted as markup.
  $("qr").src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(challenge.qrCodeSvg)}`;
  resultError.hidden = true;
  simulateStatus.textContent = "";
  $("reverse-steps").hidden = false;
  $("classic").hidden = true;
  $("result-heading").textContent = strings.resultHeading;
  $("typed-code").value = "";
  setCheckStatus("", false);
  setStatus("pending");
  statusEl.textContent = strings.status.connecting;
  result.hidden = false;
  $("form-section").hidden = true;
  $("result-heading").focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!form.reportValidity()) return;
  formError.hidden = true;
  markInvalid([]);
  submit.disabled = true;
  submit.textContent = strings.creating;
  const body = {
    phone: $("phone").value,
    country: $("country").value,
    purpose: purpose.value,
    locale: $("locale").value,
  };
  if (purpose.value === "transaction") {
    body.context = { amount: $("amount").value.trim(), currency: $("currency").value, merchant: $("merchant").value.trim() };
  }
  try {
    const challenge = await postJson("/demo/challenges", body);
    current = { id: challenge.id, pollToken: challenge.pollToken, simulationTicket: challenge.simulationTicket, controller: new AbortController() };
    showChallenge(challenge);
    void watch(current, current.controller);
  } catch (error) {
    showError(formError, error.message);
    (markInvalid(error.fields ?? []) ?? $("phone")).focus();
  } finally {
    submit.disabled = false;
    submit.textContent = strings.submit;
  }
});

// The button keeps its label; what happens is said in the status line beside it.
simulate.addEventListener("click", async () => {
  if (!current || simulate.getAttribute("aria-disabled") === "true") return;
  simulate.setAttribute("aria-disabled", "true");
  resultError.hidden = true;
  simulateStatus.textContent = strings.simulating;
  try {
    await postJson("/demo/simulate-sms", { id: current.id, ticket: current.simulationTicket }, { "X-Poll-Token": current.pollToken });
    simulateStatus.textContent = strings.simulated;
  } catch (error) {
    simulateStatus.textContent = "";
    showError(resultError, error.message);
  } finally {
    simulate.removeAttribute("aria-disabled");
  }
});

/** The line under the code field: a wrong code is an error the field is marked with. */
function setCheckStatus(text, wrong) {
  const status = $("check-status");
  status.textContent = text;
  status.className = wrong ? "message message-error" : "hint";
  if (wrong) $("typed-code").setAttribute("aria-invalid", "true");
  else $("typed-code").removeAttribute("aria-invalid");
}

/** Asks for the SMS the demo outbox kept until it is there (or its delivery failed), then shows it. */
async function showOutboxSms(challenge) {
  const sms = $("outbox-sms");
  sms.textContent = strings.waitingForSms;
  for (let delayMs = 250; current === challenge; delayMs = Math.min(delayMs * 2, 2000)) {
    try {
      const { message, deliveryStatus } = await postJson("/demo/message", { id: challenge.id, ticket: challenge.simulationTicket }, { "X-Poll-Token": challenge.pollToken });
      if (message) {
        sms.textContent = message.text;
        return;
      }
      if (deliveryStatus === "failed" || deliveryStatus === "delivered" || deliveryStatus === "sent") {
        sms.textContent = strings.smsNotShown.replace("{status}", deliveryStatus);
        return;
      }
    } catch (error) {
      if (error.status && error.status < 500) {
        showError(resultError, error.message);
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

$("fallback").addEventListener("click", async () => {
  const button = $("fallback");
  if (!current || button.getAttribute("aria-disabled") === "true") return;
  const challenge = current;
  button.setAttribute("aria-disabled", "true");
  button.textContent = strings.fallingBack;
  resultError.hidden = true;
  try {
    await postJson("/demo/fallback", { id: challenge.id, ticket: challenge.simulationTicket }, { "X-Poll-Token": challenge.pollToken });
    $("reverse-steps").hidden = true;
    $("classic").hidden = false;
    $("result-heading").textContent = strings.classicHeading;
    setStatus("pending");
    $("typed-code").focus();
    void showOutboxSms(challenge);
  } catch (error) {
    showError(resultError, error.message);
  } finally {
    button.removeAttribute("aria-disabled");
    button.textContent = strings.fallback;
  }
});

$("check-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("check");
  if (!current || !$("check-form").reportValidity() || button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  button.textContent = strings.checking;
  resultError.hidden = true;
  try {
    const view = await postJson("/demo/check", { id: current.id, ticket: current.simulationTicket, code: $("typed-code").value }, { "X-Poll-Token": current.pollToken });
    setCheckStatus("", false);
    setStatus(view.status);
  } catch (error) {
    if (error.code === "WRONG_CODE" && typeof error.attemptsRemaining === "number") {
      setCheckStatus(error.attemptsRemaining > 0 ? strings.attemptsLeft.replace("{n}", String(error.attemptsRemaining)) : strings.noAttemptsLeft, true);
      $("typed-code").select();
    } else {
      setCheckStatus("", false);
      showError(resultError, error.message);
    }
  } finally {
    button.removeAttribute("aria-disabled");
    button.textContent = strings.check;
  }
});

$("start-over").addEventListener("click", () => {
  current?.controller.abort();
  current = undefined;
  result.hidden = true;
  $("form-section").hidden = false;
  $("phone").focus();
});
