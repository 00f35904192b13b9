import './base.css';
import './sharing.css';
import './jobs.css';
import './experiments.css';
import './data.css';
import './sidebar.css';
import './admin.css';
import './sweeps.css';
