/**
 * The machine-readable consent receipt attached to every receipt mail, with the field
 * names of the Kantara Initiative's Consent Receipt Specification v1.1. The person is
 * named by their subject id (random), never by their address.
 */
import { randomUUID } from 'node:crypto';
import { basisNeedsConsent, LEGAL_BASIS_LABELS, type Channel, type LegalBasis } from '../../shared/enums';

export interface KantaraPurpose {
  purpose: string;
  purposeCategory: string[];
  consentType: string;
  piiCategory: string[];
  primaryPurpose: boolean;
  termination: string;
  thirdPartyDisclosure: boolean;
}

export interface KantaraReceipt {
  version: string;
  jurisdiction: string;
  consentTimestamp: number;
  collectionMethod: string;
  consentReceiptID: string;
  language: string;
  piiPrincipalId: string;
  piiControllers: {
    piiController: string;
    onBehalf: boolean;
    contact: string;
    address: string;
    email: string;
    phone: string;
    piiControllerUrl: string;
  }[];
  policyUrl: string;
  services: { service: string; purposes: KantaraPurpose[] }[];
  sensitive: boolean;
  spiCat: string[];
}

export interface ReceiptInput {
  site: { name: string; defaultCountry: string; controllerEmail: string | null; controllerAddress: string | null; privacyPolicyUrl: string | null; url: string };
  subjectId: string;
  lang: string;
  at: number;
  collectionMethod: string;
  purposes: { key: string; name: string; title: string; body: string; version: number; channel: Channel; legalBasis: LegalBasis }[];
  preferencesUrl: string;
}

const PII_CATEGORY: Record<Channel, string[]> = {
  email: ['E-mail address'],
  sms: ['Mobile phone number'],
  cookie: ['Online identifier'],
  other: ['Contact details'],
};

export function kantaraReceipt(input: ReceiptInput): KantaraReceipt {
  const { site } = input;
  return {
    version: 'KI-CR-v1.1.0',
    jurisdiction: site.defaultCountry,
    consentTimestamp: Math.floor(input.at / 1000),
    collectionMethod: input.collectionMethod,
    consentReceiptID: randomUUID(),
    language: input.lang,
    piiPrincipalId: input.subjectId,
    piiControllers: [
      {
        piiController: site.name,
        onBehalf: false,
        contact: site.controllerEmail ?? site.name,
        address: site.controllerAddress ?? '',
        email: site.controllerEmail ?? '',
        phone: '',
        piiControllerUrl: site.url,
      },
    ],
    policyUrl: site.privacyPolicyUrl ?? '',
    services: [
      {
        service: site.name,
        purposes: input.purposes.map((p, i) => ({
          purpose: `${p.title} (${p.key}, version ${p.version}): ${p.body}`,
          purposeCategory: [p.name, LEGAL_BASIS_LABELS[p.legalBasis]],
          consentType: basisNeedsConsent(p.legalBasis) ? 'EXPLICIT' : 'IMPLIED',
          piiCategory: PII_CATEGORY[p.channel],
          primaryPurpose: i === 0,
          termination: `Until withdrawn. Withdraw at any time on the preference page (${input.preferencesUrl}) or with the unsubscribe link in any e-mail.`,
          thirdPartyDisclosure: false,
        })),
      },
    ],
    sensitive: input.purposes.some((p) => p.legalBasis === '9-2-a'),
    spiCat: [],
  };
}
