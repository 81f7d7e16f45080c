import {
  ContactsRepository,
  LeadIntake,
  LeadIntakeSettings,
  LeadsRepository,
  ManagersRepository,
  TasksRepository,
} from '@switchboard/crm';

/** The repositories and the intake service the lead specs drive, wired as the connector wires them. */
export function leadIntakeFixture(firstContactDueMinutes: Record<string, number> = { default: 15 }) {
  const leads = new LeadsRepository();
  const contacts = new ContactsRepository();
  const managers = new ManagersRepository();
  const tasks = new TasksRepository();
  const settings: LeadIntakeSettings = {
    defaultRegion: 'RU',
    repeatWindowMinutes: 10,
    firstContactDueMinutes,
    callbackDueMinutes: 30,
  };
  return {
    leads,
    contacts,
    managers,
    tasks,
    intake: new LeadIntake(leads, contacts, managers, tasks),
    settings,
  };
}
