/**
 * The words of the mails and link pages people receive from the server (double opt-in,
 * consent receipt, magic link, e-mail change, erasure receipt, one-click unsubscribe),
 * in every UI language. Plain text with `{name}` placeholders, filled in by the templates;
 * values are escaped there, never here.
 */
import type { Language } from '../../shared/enums';

const en = {
  // Shared
  greeting: 'Hello,',
  greetingName: 'Hello {name},',
  footerWhy: 'You receive this e-mail because of your subscription at {site}.',
  footerManage: 'Manage your preferences',
  footerUnsubscribe: 'Unsubscribe from all e-mail from {site}',
  controller: 'Data controller',
  contact: 'Contact',
  ignore: 'If you did not ask for this, ignore this e-mail: nothing happens.',

  // Double opt-in
  confirmSubject: 'Confirm your subscription at {site}',
  confirmIntro: 'You (or someone using your address) asked to receive the following from {site}:',
  confirmButton: 'Confirm subscription',
  confirmExpires: 'The link works for {days} days.',
  confirmSms: 'Subscriptions by text message are confirmed from your phone: reply YES to the text message from {site}.',

  // Consent receipt
  receiptSubject: 'Your consent receipt from {site}',
  receiptIntro: 'This is your record of what you agreed to. Keep it for your own reference.',
  receiptPurpose: 'Purpose',
  receiptWording: 'What you agreed to (version {version})',
  receiptWhen: 'Agreed on',
  receiptSource: 'Where',
  receiptWithdraw: 'You can withdraw at any time, as easily as you gave it: use the link below or the unsubscribe link in any of our e-mails.',
  receiptAttachment: 'A machine-readable copy (Kantara Consent Receipt v1.1) is attached.',

  // Magic link
  magicSubject: 'Your link to your preferences at {site}',
  magicIntro: 'Here is the link you asked for. It opens your preferences at {site} and works for one hour.',
  magicButton: 'Open my preferences',

  // E-mail change
  changeSubject: 'Confirm your new e-mail address at {site}',
  changeIntro: 'You asked to use this address for your subscription at {site}. Confirm it to make the change.',
  changeButton: 'Confirm new address',

  // Erasure receipt
  eraseSubject: 'Your data at {site} has been erased',
  eraseIntro: 'As you asked on {date}, {site} has erased your name, your contact details and the records of how you gave consent.',
  eraseKept: 'We keep only an irreversible fingerprint of your address, so that you are never contacted again. This is the last e-mail you receive from us.',

  // Link pages (HTML, no script)
  pageConfirmTitle: 'Confirm your subscription',
  pageConfirmLead: 'Confirm that you want to receive the following from {site}:',
  pageConfirmDone: 'Thank you. Your subscription is confirmed, and a receipt is on its way to your inbox.',
  pageConfirmNothing: 'There is nothing left to confirm: this subscription is already confirmed or has lapsed.',
  pageUnsubscribeTitle: 'Unsubscribe',
  pageUnsubscribeOne: 'Stop e-mails about: {purpose}',
  pageUnsubscribeAll: 'Stop all e-mail marketing from {site}',
  pageUnsubscribeButton: 'Unsubscribe',
  pageUnsubscribeDone: 'You are unsubscribed. You will not receive these e-mails again.',
  pageChangeTitle: 'Confirm your new e-mail address',
  pageChangeButton: 'Confirm new address',
  pageChangeDone: 'Your e-mail address has been changed.',
  pageChangeTaken: 'This e-mail address is already used for another subscription at {site}, so nothing was changed.',
  pageExpired: 'This link has expired. Ask for a new one on the preference page.',
  pageInvalid: 'This link is not valid. Copy the whole link from the e-mail, or ask for a new one.',
  pageManage: 'Manage your preferences',
};

export type MailStrings = typeof en;

const da: MailStrings = {
  // Shared
  greeting: 'Hej,',
  greetingName: 'Hej {name},',
  footerWhy: 'Du modtager denne e-mail, fordi du har et abonnement hos {site}.',
  footerManage: 'Administrer dine indstillinger',
  footerUnsubscribe: 'Afmeld alle e-mails fra {site}',
  controller: 'Dataansvarlig',
  contact: 'Kontakt',
  ignore: 'Hvis du ikke har bedt om dette, kan du se bort fra denne e-mail: der sker ikke noget.',

  // Double opt-in
  confirmSubject: 'Bekræft dit abonnement hos {site}',
  confirmIntro: 'Du (eller en anden, der bruger din adresse) har bedt om at modtage følgende fra {site}:',
  confirmButton: 'Bekræft abonnement',
  confirmExpires: 'Linket virker i {days} dage.',
  confirmSms: 'Tilmelding til SMS bekræfter du fra din telefon: svar JA på SMS’en fra {site}.',

  // Consent receipt
  receiptSubject: 'Din samtykkekvittering fra {site}',
  receiptIntro: 'Her er din dokumentation for, hvad du har givet samtykke til. Gem den til eget brug.',
  receiptPurpose: 'Formål',
  receiptWording: 'Det, du gav samtykke til (version {version})',
  receiptWhen: 'Samtykke givet den',
  receiptSource: 'Hvor',
  receiptWithdraw: 'Du kan til enhver tid trække dit samtykke tilbage, lige så let som du gav det: brug linket nedenfor eller afmeldingslinket i alle vores e-mails.',
  receiptAttachment: 'En maskinlæsbar kopi (Kantara Consent Receipt v1.1) er vedhæftet.',

  // Magic link
  magicSubject: 'Dit link til dine indstillinger hos {site}',
  magicIntro: 'Her er det link, du bad om. Det åbner dine indstillinger hos {site} og virker i én time.',
  magicButton: 'Åbn mine indstillinger',

  // E-mail change
  changeSubject: 'Bekræft din nye e-mailadresse hos {site}',
  changeIntro: 'Du har bedt om at bruge denne adresse til dit abonnement hos {site}. Bekræft den for at gennemføre ændringen.',
  changeButton: 'Bekræft ny adresse',

  // Erasure receipt
  eraseSubject: 'Dine data hos {site} er slettet',
  eraseIntro: 'Som du bad om den {date}, har {site} slettet dit navn, dine kontaktoplysninger og dokumentationen for, hvordan du gav samtykke.',
  eraseKept: 'Vi gemmer kun et irreversibelt fingeraftryk af din adresse, så du aldrig bliver kontaktet igen. Dette er den sidste e-mail, du modtager fra os.',

  // Link pages (HTML, no script)
  pageConfirmTitle: 'Bekræft dit abonnement',
  pageConfirmLead: 'Bekræft, at du vil modtage følgende fra {site}:',
  pageConfirmDone: 'Tak. Dit abonnement er bekræftet, og en kvittering er på vej til din indbakke.',
  pageConfirmNothing: 'Der er ikke mere at bekræfte: abonnementet er allerede bekræftet eller er udløbet.',
  pageUnsubscribeTitle: 'Afmeld',
  pageUnsubscribeOne: 'Stop e-mails om: {purpose}',
  pageUnsubscribeAll: 'Stop al e-mailmarkedsføring fra {site}',
  pageUnsubscribeButton: 'Afmeld',
  pageUnsubscribeDone: 'Du er afmeldt. Du modtager ikke disse e-mails igen.',
  pageChangeTitle: 'Bekræft din nye e-mailadresse',
  pageChangeButton: 'Bekræft ny adresse',
  pageChangeDone: 'Din e-mailadresse er ændret.',
  pageChangeTaken: 'Denne e-mailadresse bruges allerede til et andet abonnement hos {site}, så intet er ændret.',
  pageExpired: 'Dette link er udløbet. Bed om et nyt på siden med dine indstillinger.',
  pageInvalid: 'Dette link er ikke gyldigt. Kopiér hele linket fra e-mailen, eller bed om et nyt.',
  pageManage: 'Administrer dine indstillinger',
};

const nb: MailStrings = {
  // Shared
  greeting: 'Hei,',
  greetingName: 'Hei {name},',
  footerWhy: 'Du mottar denne e-posten fordi du har et abonnement hos {site}.',
  footerManage: 'Administrer innstillingene dine',
  footerUnsubscribe: 'Meld deg av all e-post fra {site}',
  controller: 'Behandlingsansvarlig',
  contact: 'Kontakt',
  ignore: 'Hvis du ikke har bedt om dette, kan du se bort fra denne e-posten: ingenting skjer.',

  // Double opt-in
  confirmSubject: 'Bekreft abonnementet ditt hos {site}',
  confirmIntro: 'Du (eller noen som bruker adressen din) har bedt om å motta følgende fra {site}:',
  confirmButton: 'Bekreft abonnement',
  confirmExpires: 'Lenken virker i {days} dager.',
  confirmSms: 'Påmelding til SMS bekrefter du fra telefonen din: svar JA på SMS-en fra {site}.',

  // Consent receipt
  receiptSubject: 'Samtykkekvitteringen din fra {site}',
  receiptIntro: 'Dette er din dokumentasjon på hva du har samtykket til. Ta vare på den for egen del.',
  receiptPurpose: 'Formål',
  receiptWording: 'Det du samtykket til (versjon {version})',
  receiptWhen: 'Samtykke gitt',
  receiptSource: 'Hvor',
  receiptWithdraw: 'Du kan når som helst trekke tilbake samtykket, like enkelt som du ga det: bruk lenken nedenfor eller avmeldingslenken i alle e-postene våre.',
  receiptAttachment: 'En maskinlesbar kopi (Kantara Consent Receipt v1.1) er vedlagt.',

  // Magic link
  magicSubject: 'Lenken til innstillingene dine hos {site}',
  magicIntro: 'Her er lenken du ba om. Den åpner innstillingene dine hos {site} og virker i én time.',
  magicButton: 'Åpne innstillingene mine',

  // E-mail change
  changeSubject: 'Bekreft den nye e-postadressen din hos {site}',
  changeIntro: 'Du har bedt om å bruke denne adressen for abonnementet ditt hos {site}. Bekreft den for å gjennomføre endringen.',
  changeButton: 'Bekreft ny adresse',

  // Erasure receipt
  eraseSubject: 'Opplysningene dine hos {site} er slettet',
  eraseIntro: 'Som du ba om den {date}, har {site} slettet navnet ditt, kontaktopplysningene dine og dokumentasjonen av hvordan du ga samtykke.',
  eraseKept: 'Vi beholder bare et irreversibelt fingeravtrykk av adressen din, slik at du aldri blir kontaktet igjen. Dette er den siste e-posten du får fra oss.',

  // Link pages (HTML, no script)
  pageConfirmTitle: 'Bekreft abonnementet ditt',
  pageConfirmLead: 'Bekreft at du vil motta følgende fra {site}:',
  pageConfirmDone: 'Takk. Abonnementet ditt er bekreftet, og en kvittering er på vei til innboksen din.',
  pageConfirmNothing: 'Det er ingenting mer å bekrefte: dette abonnementet er allerede bekreftet eller har utløpt.',
  pageUnsubscribeTitle: 'Meld deg av',
  pageUnsubscribeOne: 'Stopp e-post om: {purpose}',
  pageUnsubscribeAll: 'Stopp all markedsføring på e-post fra {site}',
  pageUnsubscribeButton: 'Meld av',
  pageUnsubscribeDone: 'Du er meldt av. Du får ikke disse e-postene igjen.',
  pageChangeTitle: 'Bekreft den nye e-postadressen din',
  pageChangeButton: 'Bekreft ny adresse',
  pageChangeDone: 'E-postadressen din er endret.',
  pageChangeTaken: 'Denne e-postadressen brukes allerede til et annet abonnement hos {site}, så ingenting er endret.',
  pageExpired: 'Denne lenken har utløpt. Be om en ny på innstillingssiden.',
  pageInvalid: 'Denne lenken er ikke gyldig. Kopier hele lenken fra e-posten, eller be om en ny.',
  pageManage: 'Administrer innstillingene dine',
};

const nn: MailStrings = {
  // Shared
  greeting: 'Hei,',
  greetingName: 'Hei {name},',
  footerWhy: 'Du får denne e-posten fordi du har eit abonnement hos {site}.',
  footerManage: 'Administrer innstillingane dine',
  footerUnsubscribe: 'Meld deg av all e-post frå {site}',
  controller: 'Behandlingsansvarleg',
  contact: 'Kontakt',
  ignore: 'Viss du ikkje har bede om dette, kan du sjå bort frå denne e-posten: ingenting skjer.',

  // Double opt-in
  confirmSubject: 'Stadfest abonnementet ditt hos {site}',
  confirmIntro: 'Du (eller nokon som brukar adressa di) har bede om å få følgjande frå {site}:',
  confirmButton: 'Stadfest abonnement',
  confirmExpires: 'Lenka verkar i {days} dagar.',
  confirmSms: 'Påmelding til SMS stadfestar du frå telefonen din: svar JA på SMS-en frå {site}.',

  // Consent receipt
  receiptSubject: 'Samtykkekvitteringa di frå {site}',
  receiptIntro: 'Dette er dokumentasjonen din på kva du har samtykt til. Ta vare på kvitteringa for eigen del.',
  receiptPurpose: 'Føremål',
  receiptWording: 'Det du samtykte til (versjon {version})',
  receiptWhen: 'Samtykke gjeve',
  receiptSource: 'Kvar',
  receiptWithdraw: 'Du kan når som helst trekkje tilbake samtykket, like enkelt som du gav det: bruk lenka nedanfor eller avmeldingslenka i alle e-postane våre.',
  receiptAttachment: 'Ein maskinlesbar kopi (Kantara Consent Receipt v1.1) er lagd ved.',

  // Magic link
  magicSubject: 'Lenka til innstillingane dine hos {site}',
  magicIntro: 'Her er lenka du bad om. Ho opnar innstillingane dine hos {site} og verkar i éin time.',
  magicButton: 'Opne innstillingane mine',

  // E-mail change
  changeSubject: 'Stadfest den nye e-postadressa di hos {site}',
  changeIntro: 'Du har bede om å bruke denne adressa for abonnementet ditt hos {site}. Stadfest ho for å gjennomføre endringa.',
  changeButton: 'Stadfest ny adresse',

  // Erasure receipt
  eraseSubject: 'Opplysningane dine hos {site} er sletta',
  eraseIntro: 'Som du bad om den {date}, har {site} sletta namnet ditt, kontaktopplysningane dine og dokumentasjonen av korleis du gav samtykke.',
  eraseKept: 'Vi tek berre vare på eit irreversibelt fingeravtrykk av adressa di, slik at du aldri blir kontakta igjen. Dette er den siste e-posten du får frå oss.',

  // Link pages (HTML, no script)
  pageConfirmTitle: 'Stadfest abonnementet ditt',
  pageConfirmLead: 'Stadfest at du vil få følgjande frå {site}:',
  pageConfirmDone: 'Takk. Abonnementet ditt er stadfesta, og ei kvittering er på veg til innboksen din.',
  pageConfirmNothing: 'Det er ikkje noko meir å stadfeste: dette abonnementet er alt stadfesta eller har gått ut.',
  pageUnsubscribeTitle: 'Meld deg av',
  pageUnsubscribeOne: 'Stopp e-post om: {purpose}',
  pageUnsubscribeAll: 'Stopp all marknadsføring på e-post frå {site}',
  pageUnsubscribeButton: 'Meld av',
  pageUnsubscribeDone: 'Du er meld av. Du får ikkje desse e-postane igjen.',
  pageChangeTitle: 'Stadfest den nye e-postadressa di',
  pageChangeButton: 'Stadfest ny adresse',
  pageChangeDone: 'E-postadressa di er endra.',
  pageChangeTaken: 'Denne e-postadressa er allereie i bruk til eit anna abonnement hos {site}, så ingenting er endra.',
  pageExpired: 'Denne lenka har gått ut. Be om ei ny på innstillingssida.',
  pageInvalid: 'Denne lenka er ikkje gyldig. Kopier heile lenka frå e-posten, eller be om ei ny.',
  pageManage: 'Administrer innstillingane dine',
};

const sv: MailStrings = {
  // Shared
  greeting: 'Hej,',
  greetingName: 'Hej {name},',
  footerWhy: 'Du får det här e-postmeddelandet eftersom du har en prenumeration hos {site}.',
  footerManage: 'Hantera dina inställningar',
  footerUnsubscribe: 'Avregistrera dig från all e-post från {site}',
  controller: 'Personuppgiftsansvarig',
  contact: 'Kontakt',
  ignore: 'Om du inte har bett om detta kan du bortse från det här e-postmeddelandet: ingenting händer.',

  // Double opt-in
  confirmSubject: 'Bekräfta din prenumeration hos {site}',
  confirmIntro: 'Du (eller någon som använder din adress) har bett om att få följande från {site}:',
  confirmButton: 'Bekräfta prenumeration',
  confirmExpires: 'Länken fungerar i {days} dagar.',
  confirmSms: 'Prenumeration på sms bekräftar du från din telefon: svara JA på sms:et från {site}.',

  // Consent receipt
  receiptSubject: 'Ditt samtyckeskvitto från {site}',
  receiptIntro: 'Det här är din dokumentation av vad du har samtyckt till. Spara den för egen räkning.',
  receiptPurpose: 'Ändamål',
  receiptWording: 'Det du samtyckte till (version {version})',
  receiptWhen: 'Samtycke lämnat',
  receiptSource: 'Var',
  receiptWithdraw: 'Du kan när som helst återkalla ditt samtycke, lika enkelt som du lämnade det: använd länken nedan eller avregistreringslänken i något av våra e-postmeddelanden.',
  receiptAttachment: 'En maskinläsbar kopia (Kantara Consent Receipt v1.1) finns bifogad.',

  // Magic link
  magicSubject: 'Din länk till dina inställningar hos {site}',
  magicIntro: 'Här är länken du bad om. Den öppnar dina inställningar hos {site} och fungerar i en timme.',
  magicButton: 'Öppna mina inställningar',

  // E-mail change
  changeSubject: 'Bekräfta din nya e-postadress hos {site}',
  changeIntro: 'Du har bett om att använda den här adressen för din prenumeration hos {site}. Bekräfta den för att genomföra ändringen.',
  changeButton: 'Bekräfta ny adress',

  // Erasure receipt
  eraseSubject: 'Dina uppgifter hos {site} har raderats',
  eraseIntro: 'Som du bad om den {date} har {site} raderat ditt namn, dina kontaktuppgifter och dokumentationen av hur du lämnade ditt samtycke.',
  eraseKept: 'Vi sparar bara ett irreversibelt fingeravtryck av din adress, så att du aldrig kontaktas igen. Det här är det sista e-postmeddelandet du får från oss.',

  // Link pages (HTML, no script)
  pageConfirmTitle: 'Bekräfta din prenumeration',
  pageConfirmLead: 'Bekräfta att du vill få följande från {site}:',
  pageConfirmDone: 'Tack! Din prenumeration är bekräftad och ett kvitto är på väg till din inkorg.',
  pageConfirmNothing: 'Det finns inget kvar att bekräfta: prenumerationen är redan bekräftad eller har upphört att gälla.',
  pageUnsubscribeTitle: 'Avregistrera dig',
  pageUnsubscribeOne: 'Sluta få e-post om: {purpose}',
  pageUnsubscribeAll: 'Sluta få all e-postmarknadsföring från {site}',
  pageUnsubscribeButton: 'Avregistrera',
  pageUnsubscribeDone: 'Du är avregistrerad. Du kommer inte att få de här e-postmeddelandena igen.',
  pageChangeTitle: 'Bekräfta din nya e-postadress',
  pageChangeButton: 'Bekräfta ny adress',
  pageChangeDone: 'Din e-postadress har ändrats.',
  pageChangeTaken: 'Den här e-postadressen används redan för en annan prenumeration hos {site}, så ingenting har ändrats.',
  pageExpired: 'Den här länken har gått ut. Be om en ny på inställningssidan.',
  pageInvalid: 'Den här länken är inte giltig. Kopiera hela länken från e-postmeddelandet eller be om en ny.',
  pageManage: 'Hantera dina inställningar',
};

const de: MailStrings = {
  // Shared
  greeting: 'Guten Tag,',
  greetingName: 'Guten Tag {name},',
  footerWhy: 'Sie erhalten diese E-Mail aufgrund Ihres Abonnements bei {site}.',
  footerManage: 'Ihre Einstellungen verwalten',
  footerUnsubscribe: 'Von allen E-Mails von {site} abmelden',
  controller: 'Verantwortlicher',
  contact: 'Kontakt',
  ignore: 'Falls Sie dies nicht angefordert haben, ignorieren Sie diese E-Mail einfach: Es passiert nichts.',

  // Double opt-in
  confirmSubject: 'Bestätigen Sie Ihr Abonnement bei {site}',
  confirmIntro: 'Sie (oder jemand, der Ihre Adresse verwendet) haben darum gebeten, Folgendes von {site} zu erhalten:',
  confirmButton: 'Abonnement bestätigen',
  confirmExpires: 'Der Link ist {days} Tage lang gültig.',
  confirmSms: 'Die Anmeldung zu SMS bestätigen Sie auf Ihrem Telefon: Antworten Sie JA auf die SMS von {site}.',

  // Consent receipt
  receiptSubject: 'Ihr Einwilligungsnachweis von {site}',
  receiptIntro: 'Dies ist Ihr Nachweis darüber, worin Sie eingewilligt haben. Bewahren Sie ihn für Ihre Unterlagen auf.',
  receiptPurpose: 'Zweck',
  receiptWording: 'Worin Sie eingewilligt haben (Version {version})',
  receiptWhen: 'Erteilt am',
  receiptSource: 'Wo',
  receiptWithdraw: 'Sie können Ihre Einwilligung jederzeit so einfach widerrufen, wie Sie sie erteilt haben: über den Link unten oder den Abmeldelink in jeder unserer E-Mails.',
  receiptAttachment: 'Eine maschinenlesbare Kopie (Kantara Consent Receipt v1.1) ist beigefügt.',

  // Magic link
  magicSubject: 'Ihr Link zu Ihren Einstellungen bei {site}',
  magicIntro: 'Hier ist der angeforderte Link. Er öffnet Ihre Einstellungen bei {site} und ist eine Stunde lang gültig.',
  magicButton: 'Meine Einstellungen öffnen',

  // E-mail change
  changeSubject: 'Bestätigen Sie Ihre neue E-Mail-Adresse bei {site}',
  changeIntro: 'Sie haben darum gebeten, diese Adresse für Ihr Abonnement bei {site} zu verwenden. Bestätigen Sie sie, um die Änderung vorzunehmen.',
  changeButton: 'Neue Adresse bestätigen',

  // Erasure receipt
  eraseSubject: 'Ihre Daten bei {site} wurden gelöscht',
  eraseIntro: 'Wie von Ihnen am {date} gewünscht, hat {site} Ihren Namen, Ihre Kontaktdaten und die Nachweise darüber gelöscht, wie Sie Ihre Einwilligung erteilt haben.',
  eraseKept: 'Wir speichern nur einen nicht umkehrbaren Fingerabdruck Ihrer Adresse, damit Sie nie wieder kontaktiert werden. Dies ist die letzte E-Mail, die Sie von uns erhalten.',

  // Link pages (HTML, no script)
  pageConfirmTitle: 'Bestätigen Sie Ihr Abonnement',
  pageConfirmLead: 'Bestätigen Sie, dass Sie Folgendes von {site} erhalten möchten:',
  pageConfirmDone: 'Vielen Dank. Ihr Abonnement ist bestätigt, und ein Nachweis ist auf dem Weg in Ihr Postfach.',
  pageConfirmNothing: 'Hier gibt es nichts mehr zu bestätigen: Dieses Abonnement ist bereits bestätigt oder abgelaufen.',
  pageUnsubscribeTitle: 'Abmelden',
  pageUnsubscribeOne: 'Keine E-Mails mehr zu: {purpose}',
  pageUnsubscribeAll: 'Kein E-Mail-Marketing mehr von {site}',
  pageUnsubscribeButton: 'Abmelden',
  pageUnsubscribeDone: 'Sie sind abgemeldet. Sie erhalten diese E-Mails nicht mehr.',
  pageChangeTitle: 'Bestätigen Sie Ihre neue E-Mail-Adresse',
  pageChangeButton: 'Neue Adresse bestätigen',
  pageChangeDone: 'Ihre E-Mail-Adresse wurde geändert.',
  pageChangeTaken: 'Diese E-Mail-Adresse wird bei {site} bereits für ein anderes Abonnement verwendet, daher wurde nichts geändert.',
  pageExpired: 'Dieser Link ist abgelaufen. Fordern Sie auf der Einstellungsseite einen neuen an.',
  pageInvalid: 'Dieser Link ist ungültig. Kopieren Sie den vollständigen Link aus der E-Mail oder fordern Sie einen neuen an.',
  pageManage: 'Ihre Einstellungen verwalten',
};

export const MAIL_STRINGS: Record<Language, MailStrings> = {
  en,
  // Each must have every key of `en`.
  da,
  nb,
  nn,
  sv,
  de,
};

/** The strings for `lang` (its primary tag), else English. */
export function mailStrings(lang: string | null | undefined): MailStrings {
  const primary = (lang ?? '').toLowerCase().split('-')[0] as Language;
  return MAIL_STRINGS[primary] ?? en;
}

/** Fills `{name}` placeholders; unknown names are left as they are. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}
