import { AiExtractorEnv, loadConfig } from '@wacrm/config';
import { initFirebaseFromEnv } from '@wacrm/firestore';
import { connectServiceRedis, bootService, serveWorkerOps } from '@wacrm/queue';
import { firestoreAskRepository } from './data-access/ask.repository.js';
import { firestoreExtractionRepository } from './data-access/extraction.repository.js';
import { groqChat } from './data-access/groq-chat.client.js';
import { redisRateLimiter } from './data-access/llm-rate-limiter.js';
import { groqExtractionProvider } from './domain/groq-extraction.provider.js';
import { OfflineExtractionProvider } from './domain/offline/offline-extractor.js';
import { startAiRequestsWorker } from './entry-points/ai-requests.worker.js';
import { VERSION } from './version.js';

const SERVICE = 'ai-extractor';
const config = loadConfig(SERVICE, AiExtractorEnv);
const booted = bootService(SERVICE, VERSION, config);
const { logger, shutdown } = booted;

const firebase = initFirebaseFromEnv(config);
shutdown.add('firebase', () => firebase.close());

const connection = await connectServiceRedis(booted, config.REDIS_URL);

const offline = new OfflineExtractionProvider();
// With a key, Groq drafts and phrases; the offline extractor stays as the fallback.
const chat =
  config.GROQ_API_KEY === undefined
    ? undefined
    : groqChat({
        apiKey: config.GROQ_API_KEY,
        ...(config.GROQ_BASE_URL !== undefined ? { baseURL: config.GROQ_BASE_URL } : {}),
        model: config.GROQ_MODEL,
        timeoutMs: config.AI_TIMEOUT_MS,
        maxAttempts: config.AI_MAX_ATTEMPTS,
        limiter: redisRateLimiter(connection, {
          prefix: config.QUEUE_PREFIX,
          apiKey: config.GROQ_API_KEY,
          requestsPerMinute: config.GROQ_RPM,
          maxWaitMs: config.AI_TIMEOUT_MS,
        }),
        logger,
      });

const worker = startAiRequestsWorker({
  connection,
  prefix: config.QUEUE_PREFIX,
  logger,
  extract: {
    repo: firestoreExtractionRepository(firebase.db),
    ...(chat === undefined
      ? { provider: offline }
      : { provider: groqExtractionProvider(chat, logger), fallback: offline }),
  },
  ask: {
    repo: firestoreAskRepository(firebase.db),
    ...(chat !== undefined ? { phraser: chat } : {}),
  },
  concurrency: config.AI_CONCURRENCY,
  tracerName: SERVICE,
  shutdown,
});
await serveWorkerOps(config, worker, { service: SERVICE, redis: connection, logger, shutdown });
logger.info(
  { provider: chat === undefined ? 'offline' : 'groq', model: chat?.model ?? offline.model },
  'ai-extractor consuming ai-requests',
);
