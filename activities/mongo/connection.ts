/** Open the MongoDB connection (real MongoDB or FerretDB) and register the models. */
import mongoose from 'mongoose';
import { registerModels, type Models } from './schemas';
import { CallRepository, ContactPageRepository, TaskRepository } from './repositories';

export interface Repositories {
  conn: mongoose.Connection;
  models: Models;
  tasks: TaskRepository;
  pages: ContactPageRepository;
  calls: CallRepository;
}

export async function openRepositories(uri: string): Promise<Repositories> {
  // No transactions, $lookup or change streams anywhere: the same code runs on FerretDB 1.24 and MongoDB 7.
  const conn = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000, autoIndex: true });
  await conn.asPromise();
  const models = registerModels(conn);
  await Promise.all(Object.values(models).map((m: mongoose.Model<unknown>) => m.init()));
  return {
    conn,
    models,
    tasks: new TaskRepository(models),
    pages: new ContactPageRepository(models),
    calls: new CallRepository(models),
  };
}

export async function pingMongo(conn: mongoose.Connection): Promise<void> {
  if (!conn.db) throw new Error('not connected');
  await conn.db.admin().command({ ping: 1 });
}
