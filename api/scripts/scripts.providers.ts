/** The script API's controllers and providers, spread into AppModule (they use its CONFIG, LOGGER and REPOSITORIES). */
import type { Provider, Type } from '@nestjs/common';
import type { Config } from '../../config/config';
import { createEspeakTts, createRecordingImporter } from '../../activities/speech/espeak-tts';
import { CONFIG } from '../common/tokens';
import { ConsoleService } from './console.service';
import { DubbingService, RECORDING_IMPORTER, SCRIPT_TTS } from './dubbing.service';
import { ScriptRegressionController } from './regression.controller';
import { ScriptsController } from './scripts.controller';
import { ScriptsService } from './scripts.service';

export const SCRIPT_CONTROLLERS: Type[] = [ScriptsController, ScriptRegressionController];

export const SCRIPT_PROVIDERS: Provider[] = [
  { provide: SCRIPT_TTS, useFactory: (config: Config) => createEspeakTts(config.tts), inject: [CONFIG] },
  {
    provide: RECORDING_IMPORTER,
    useFactory: (config: Config) => createRecordingImporter(config.tts),
    inject: [CONFIG],
  },
  ScriptsService,
  DubbingService,
  ConsoleService,
];
