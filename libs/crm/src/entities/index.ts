import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/** numeric columns come back from pg as strings; keep money exact as string in transit. */
const money = { type: 'numeric', precision: 18, scale: 4 } as const;

@Entity('managers')
export class Manager {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column() name: string;
  @Column({ type: 'text', nullable: true }) email: string | null;
  /** PBX extension; the telephony connector maps "who took the call" through it. */
  @Index({ unique: true, where: 'extension IS NOT NULL' })
  @Column({ type: 'text', nullable: true })
  extension: string | null;
  @Column('text', { array: true, default: '{}' }) queues: string[];
  @Column('text', { array: true, default: '{}' }) productGroups: string[];
  @Column({ default: true }) active: boolean;
  /** Most open leads + deals at once (null: no limit). */
  @Column({ type: 'int', nullable: true }) capacity: number | null;
  /** {"mon": ["09:00-18:00"], ...} in timeZone; null: always on duty. */
  @Column({ type: 'jsonb', nullable: true }) workingHours: Record<string, string[]> | null;
  @Column({ type: 'text', default: 'UTC' }) timeZone: string;
  @Column('text', { array: true, default: '{}' }) regions: string[];
  @Column('text', { array: true, default: '{}' }) sources: string[];
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}

@Entity('companies')
export class Company {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column() name: string;
  @Column({ type: 'text', nullable: true }) taxId: string | null;
  @Column('text', { array: true, default: '{}' }) phones: string[];
  @Column('text', { array: true, default: '{}' }) emails: string[];
  @Column({ type: 'uuid', nullable: true }) responsibleManagerId: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('contacts')
export class Contact {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text', nullable: true }) name: string | null;
  @Column({ type: 'uuid', nullable: true }) companyId: string | null;
  /** E.164 */
  @Column('text', { array: true, default: '{}' }) phones: string[];
  /** lower-cased */
  @Column('text', { array: true, default: '{}' }) emails: string[];
  @Column({ type: 'uuid', nullable: true }) responsibleManagerId: string | null;
  @ManyToOne(() => Manager, { nullable: true })
  @JoinColumn({ name: 'responsible_manager_id' })
  responsibleManager?: Manager | null;
  @Column({ type: 'text', nullable: true }) source: string | null;
  @Column({ type: 'text', nullable: true }) siteCustomerId: string | null;
  /** The effective discount percent (null: none): an unexpired manual one, else the loyalty tier's. */
  @Column({ type: 'numeric', precision: 5, scale: 2, nullable: true }) discount: string | null;
  @Column({ type: 'text', nullable: true }) discountSource: 'tier' | 'manual' | null;
  @Column({ type: 'timestamptz', nullable: true }) discountChangedAt: Date | null;
  /** Paid deals of the loyalty window, in the loyalty currency, as of loyaltyComputedAt. */
  @Column(money) loyaltySpend: string;
  @Column({ type: 'text', nullable: true }) loyaltyTier: string | null;
  @Column({ type: 'timestamptz', nullable: true }) loyaltyComputedAt: Date | null;
  @Column({ type: 'numeric', precision: 5, scale: 2, nullable: true }) manualDiscount: string | null;
  @Column({ type: 'timestamptz', nullable: true }) manualDiscountExpiresAt: Date | null;
  @Column({ type: 'text', nullable: true }) manualDiscountSetBy: string | null;
  /** YYYY-MM-DD */
  @Column({ type: 'date', nullable: true }) birthday: string | null;
  @Column({ type: 'jsonb', nullable: true }) address: Record<string, string> | null;
  @Column({ type: 'jsonb', default: {} }) consents: Record<string, boolean>;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
  @OneToMany(() => Deal, (d) => d.contact) deals?: Deal[];
}

/** One row per phone/email: the unique key that makes "one card per customer" hold under concurrency. */
@Entity('contact_identities')
export class ContactIdentity {
  @PrimaryColumn({ type: 'text' }) kind: 'phone' | 'email';
  @PrimaryColumn({ type: 'text' }) value: string;
  @Column({ type: 'uuid' }) contactId: string;
  /** The peer whose event attached it (null: attached before provenance was recorded). */
  @Column({ type: 'text', nullable: true }) peerId: string | null;
  /** False when another peer attached it to a card it did not match: not shown on the card, not matched for others. */
  @Column({ type: 'boolean', default: true }) verified: boolean;
  @Column({ type: 'timestamptz' }) attachedAt: Date;
}

export type LeadStatus = 'new' | 'in_progress' | 'unqualified' | 'junk' | 'converted' | 'refused';

@Entity('leads')
export class Lead {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text', nullable: true }) name: string | null;
  @Index() @Column({ type: 'text', nullable: true }) phone: string | null;
  @Index() @Column({ type: 'text', nullable: true }) email: string | null;
  @Column({ type: 'text' }) sourceChannel: string;
  @Column({ type: 'text', nullable: true }) utmSource: string | null;
  @Column({ type: 'text', nullable: true }) utmMedium: string | null;
  @Column({ type: 'text', nullable: true }) utmCampaign: string | null;
  @Column({ type: 'text', default: 'new' }) status: LeadStatus;
  @Column({ type: 'text', nullable: true }) refuseReason: string | null;
  @Column({ type: 'uuid', nullable: true }) convertedContactId: string | null;
  @Column({ type: 'uuid', nullable: true }) convertedDealId: string | null;
  @Column({ type: 'uuid', nullable: true }) responsibleManagerId: string | null;
  @Column({ type: 'text', nullable: true }) peerId: string | null;
  /** Call tracking: the ad channel of the line the lead first called. */
  @Column({ type: 'text', nullable: true }) trackingChannel: string | null;
  /** form | callback | subscription | quiz | chat (website requests). */
  @Column({ type: 'text', nullable: true }) kind: string | null;
  @Column({ type: 'text', nullable: true }) formId: string | null;
  @Column({ type: 'text', nullable: true }) formName: string | null;
  @Column({ type: 'text', nullable: true }) message: string | null;
  @Column({ type: 'jsonb', nullable: true }) consents: Record<string, unknown> | null;
  @Column({ type: 'text', nullable: true }) pageUrl: string | null;
  @Column({ type: 'text', nullable: true }) referrer: string | null;
  @Column({ type: 'text', nullable: true }) utmTerm: string | null;
  @Column({ type: 'text', nullable: true }) utmContent: string | null;
  @Column({ type: 'text', nullable: true }) analyticsClientId: string | null;
  @Column({ type: 'text', nullable: true }) siteCustomerId: string | null;
  /** Why unqualified/junk (qualification). */
  @Column({ type: 'text', nullable: true }) statusReason: string | null;
  /** The assignment rule that chose the responsible manager. */
  @Column({ type: 'text', nullable: true }) assignmentRule: string | null;
  @Column({ type: 'timestamptz', nullable: true }) firstContactAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) closedAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('deals')
@Index(['peerId', 'externalId'], { unique: true })
export class Deal {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) peerId: string;
  /** The site's order id, exactly as sent. */
  @Column({ type: 'text' }) externalId: string;
  @Column({ type: 'uuid' }) contactId: string;
  @ManyToOne(() => Contact, (c) => c.deals)
  @JoinColumn({ name: 'contact_id' })
  contact?: Contact;
  @Column({ type: 'text' }) title: string;
  @Column({ type: 'text' }) status: string;
  @Column(money) amount: string;
  @Column({ type: 'char', length: 3 }) currency: string;
  @Column({ type: 'text', nullable: true }) deliveryAddress: string | null;
  @Column({ type: 'text', nullable: true }) utmSource: string | null;
  @Column({ type: 'text', nullable: true }) utmMedium: string | null;
  @Column({ type: 'text', nullable: true }) utmCampaign: string | null;
  @Column({ type: 'text', nullable: true }) utmTerm: string | null;
  @Column({ type: 'text', nullable: true }) utmContent: string | null;
  /** A provider's test notification (X-Shopify-Test, `test: true`): shown, but not a sale for reports/pushes. */
  @Column({ type: 'boolean', default: false }) test: boolean;
  @Column({ type: 'timestamptz' }) sourceCreatedAt: Date;
  /** Version of the order at the source; an update with an older or equal value changes nothing. */
  @Column({ type: 'timestamptz' }) sourceUpdatedAt: Date;
  @Column({ type: 'timestamptz', nullable: true }) paidAt: Date | null;
  /** Source version paidAt came from: the newest version that carried one wins, in any arrival order. */
  @Column({ type: 'timestamptz', nullable: true }) paidAtVersion: Date | null;
  @Column({ type: 'uuid', nullable: true }) responsibleManagerId: string | null;
  @Column({ type: 'uuid' }) lastEventId: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
  @OneToMany(() => DealItem, (i) => i.deal) items?: DealItem[];
}

@Entity('deal_items')
export class DealItem {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' }) id: string;
  @Column({ type: 'uuid' }) dealId: string;
  @ManyToOne(() => Deal, (d) => d.items, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'deal_id' })
  deal?: Deal;
  @Column({ type: 'int' }) position: number;
  @Column({ type: 'text' }) sku: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'int' }) quantity: number;
  @Column(money) price: string;
}

export type TaskKind = 'call_back' | 'call_lead' | 'follow_up';
export type TaskStatus = 'open' | 'done' | 'cancelled';

@Entity('tasks')
export class Task {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) kind: TaskKind;
  @Column({ type: 'text' }) title: string;
  @Column({ type: 'text', default: 'open' }) status: TaskStatus;
  @Column({ type: 'timestamptz', nullable: true }) dueAt: Date | null;
  @Column({ type: 'uuid', nullable: true }) responsibleManagerId: string | null;
  @Column({ type: 'uuid', nullable: true }) contactId: string | null;
  @Column({ type: 'uuid', nullable: true }) leadId: string | null;
  @Column({ type: 'uuid', nullable: true }) dealId: string | null;
  @Column({ type: 'text', nullable: true }) result: string | null;
  /** Call-back tasks: the customer's E.164 phone (at most one open call-back per phone). */
  @Column({ type: 'text', nullable: true }) phone: string | null;
  /** The missed call a call-back task is for. */
  @Column({ type: 'uuid', nullable: true }) callLogId: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @Column({ type: 'timestamptz', nullable: true }) closedAt: Date | null;
}

export type CallLogStatus = 'in_progress' | 'completed';

/**
 * One conversation as the CRM shows it: every event of every leg (grouped by the provider's linked id /
 * parent call) folded into one row; the raw events are its timeline (CallEvent).
 */
@Entity('call_logs')
@Index(['peerId', 'provider', 'callKey'], { unique: true })
export class CallLog {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) peerId: string;
  @Column({ type: 'text' }) provider: string;
  /** linkedId ?? parentCallId ?? providerCallId: the same for every leg of the conversation. */
  @Column({ type: 'text' }) callKey: string;
  @Column({ type: 'text' }) providerCallId: string;
  @Column({ type: 'text' }) direction: 'inbound' | 'outbound' | 'internal';
  @Column({ type: 'text' }) fromNumber: string;
  @Column({ type: 'text' }) toNumber: string;
  /** The outside party in E.164 (caller of an inbound call, callee of an outbound one). */
  @Column({ type: 'text', nullable: true }) customerPhone: string | null;
  @Column({ type: 'text', nullable: true }) callerName: string | null;
  @Column({ type: 'text', nullable: true }) line: string | null;
  @Column({ type: 'text', nullable: true }) extension: string | null;
  @Column({ type: 'uuid', nullable: true }) managerId: string | null;
  @Column({ type: 'uuid', nullable: true }) contactId: string | null;
  @Column({ type: 'uuid', nullable: true }) leadId: string | null;
  /** This call created its lead (an unknown inbound caller). */
  @Column({ type: 'boolean', default: false }) leadCreated: boolean;
  @Column({ type: 'text', nullable: true }) trackingChannel: string | null;
  @Column({ type: 'text', default: 'in_progress' }) status: CallLogStatus;
  @Column({ type: 'timestamptz' }) startedAt: Date;
  @Column({ type: 'timestamptz', nullable: true }) answeredAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) endedAt: Date | null;
  @Column({ type: 'int', nullable: true }) waitSeconds: number | null;
  @Column({ type: 'int', nullable: true }) talkSeconds: number | null;
  /** startedAt/answeredAt/waitSeconds were derived from the final message (answer = end - talk), not seen. */
  @Column({ type: 'boolean', default: false }) timesEstimated: boolean;
  @Column({ type: 'text', nullable: true }) disposition: string | null;
  @Column({ type: 'text', nullable: true }) hangupCause: string | null;
  @Column({ type: 'text', nullable: true }) recordingUrl: string | null;
  @Column({ type: 'text', nullable: true }) recordingId: string | null;
  @Column({ type: 'uuid', nullable: true }) callbackTaskId: string | null;
  @Column({ type: 'int', default: 0 }) eventCount: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
  @OneToMany(() => CallEvent, (e) => e.callLog) events?: CallEvent[];
}

/** One received telephony event, kept as sent (after validation): the call's timeline. */
@Entity('call_events')
export class CallEvent {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' }) id: string;
  @Column({ type: 'uuid' }) callLogId: string;
  @ManyToOne(() => CallLog, (c) => c.events, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'call_log_id' })
  callLog?: CallLog;
  @Column({ type: 'uuid', unique: true }) eventId: string;
  @Column({ type: 'text' }) type: string;
  @Column({ type: 'text' }) providerCallId: string;
  @Column({ type: 'bigint', nullable: true }) sequence: string | null;
  @Column({ type: 'timestamptz' }) occurredAt: Date;
  @Column({ type: 'jsonb' }) payload: Record<string, unknown>;
  @CreateDateColumn({ type: 'timestamptz' }) receivedAt: Date;
}

export const CRM_ENTITIES = [
  Manager,
  Company,
  Contact,
  ContactIdentity,
  Lead,
  Deal,
  DealItem,
  Task,
  CallLog,
  CallEvent,
];
